// Method 21 on the primary (replication_source.h).
#include "daemon/replication_source.h"

#include <memory>
#include <mutex>

#include "daemon/replication_plan.h"
#include "endpoints/acl_replication.h"

namespace pc::daemon {
namespace {

// One parked fetch. Answered once, on the timer thread: by the watch's wake-up (posted
// there, since the watch fires on the apply thread, which must not build replies) or by the
// deadline, whichever comes first. The deadline's timer owns it, so it lives until then.
struct Parked {
  Parked(const endpoints::Context* c, proto::ReplicationRequest r, rpc::Responder out)
      : ctx(c), request(std::move(r)), responder(std::move(out)) {}
  const endpoints::Context* ctx;
  proto::ReplicationRequest request;
  rpc::Responder responder;
  std::mutex mu;
  bool answered = false;
  std::unique_ptr<state::WatchSet> ws;
};

void reply_with(const endpoints::Context& ctx, const proto::ReplicationRequest& request,
                rpc::Responder& responder) {
  state::WatchSet ws(false);
  auto reply = endpoints::replication_read(ctx, request, ws);
  if (!reply) return responder.fail(reply.error());
  responder.respond(reply->SerializeAsString());
}

void answer(const std::shared_ptr<Parked>& p) {
  std::unique_ptr<state::WatchSet> ws;
  {
    std::lock_guard lock(p->mu);
    if (p->answered) return;
    p->answered = true;
    ws = std::move(p->ws);  // detaches from the table's channel when it goes
  }
  reply_with(*p->ctx, p->request, p->responder);
}

}  // namespace

void ReplicationSource::register_handler(rpc::RpcServer& server) {
  server.handle(kRpcReplicationFetch,
                [this](rpc::Request req, rpc::Responder r) { handle(std::move(req), r); });
}

void ReplicationSource::attach(const endpoints::Context& ctx, core::TimerThread& timers) {
  timers_ = &timers;
  ctx_ = &ctx;
}

void ReplicationSource::handle(rpc::Request request, rpc::Responder responder) {
  const endpoints::Context* ctx = ctx_.load();
  core::TimerThread* timers = timers_.load();
  if (ctx == nullptr || timers == nullptr) {
    return responder.fail(core::make_error(core::Code::kUnavailable, "server starting"));
  }
  auto req = decode_replication_request(request.payload);
  if (!req) return responder.fail(req.error());
  auto ws = std::make_unique<state::WatchSet>();
  auto first = endpoints::replication_read(*ctx, *req, *ws);
  if (!first) return responder.fail(first.error());
  const auto wait =
      std::min<std::chrono::milliseconds>(std::chrono::milliseconds(req->max_wait_ms()), kMaxWait);
  if (first->index() > req->min_index() || wait.count() == 0) {
    return responder.respond(first->SerializeAsString());
  }
  auto parked = std::make_shared<Parked>(ctx, std::move(*req), responder);
  std::weak_ptr<Parked> weak = parked;
  {
    // Held while registering, so an answer racing in on the timer thread cannot destroy the
    // set under notify_once.
    std::lock_guard lock(parked->mu);
    parked->ws = std::move(ws);
    parked->ws->notify_once([weak, timers] {
      timers->schedule(std::chrono::steady_clock::now(), [weak] {
        if (auto p = weak.lock()) answer(p);
      });
    });
  }
  timers->schedule(std::chrono::steady_clock::now() + wait, [parked] { answer(parked); });
}

}  // namespace pc::daemon
