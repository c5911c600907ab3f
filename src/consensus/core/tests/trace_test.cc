// Data-driven trace tests in the style of etcd-io/raft's interaction tests: each file in
// testdata/ is a script of commands, each followed by "----" and the trace it must produce
// (messages delivered or dropped, role changes, applied entries, read states). Run with
// RAFT_TRACE_REWRITE=1 to regenerate the expectations after a deliberate change, then
// review the diff.
//
// Commands:
//   add-nodes N [learners=4,5] [pre-vote=false] [check-quorum=false] [max-size=B]
//             [max-inflight=N] [read-only=lease]
//   campaign ID | propose ID DATA | propose-conf-change ID add-voter|add-learner|remove NODE
//   transfer-leadership FROM TO | read-index ID CTX | tick ID [N] | tick-all [N]
//   stabilize | isolate ID | heal | restart ID | compact ID | report-snapshot ID TO ok|fail
//   status ID | log ID | progress ID
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "consensus/core/tests/test_cluster.h"

namespace pc::consensus::raft {
namespace {

using test_support::Cluster;

struct Case {
  std::vector<std::string> comments;  // lines before the command, kept on rewrite
  std::string command;
  std::vector<std::string> expected;
  int line = 0;
};

std::vector<std::string> split(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::vector<Case> parse(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::vector<Case> cases;
  std::vector<std::string> comments;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (l.empty()) {
      if (!comments.empty()) comments.push_back(l);
      continue;
    }
    if (l[0] == '#') {
      comments.push_back(l);
      continue;
    }
    Case c;
    c.comments = std::move(comments);
    comments.clear();
    while (!c.comments.empty() && c.comments.front().empty()) c.comments.erase(c.comments.begin());
    c.command = l;
    c.line = static_cast<int>(i + 1);
    ++i;
    EXPECT_TRUE(i < lines.size() && lines[i] == "----") << path << ":" << c.line << ": no ----";
    for (++i; i < lines.size() && !lines[i].empty(); ++i) c.expected.push_back(lines[i]);
    cases.push_back(std::move(c));
  }
  return cases;
}

class TraceRunner {
 public:
  std::vector<std::string> run(const std::string& command) {
    out_.clear();
    auto w = split(command);
    const std::string& cmd = w.at(0);
    auto id = [&](std::size_t i) { return static_cast<NodeId>(std::stoull(w.at(i))); };
    auto status = [&](const core::Status& st) {
      if (!st) out_.push_back("error: " + st.error().message);
    };
    if (cmd == "add-nodes") {
      add_nodes(w);
    } else if (cmd == "campaign") {
      c_->node(id(1)).campaign();
    } else if (cmd == "propose") {
      status(c_->node(id(1)).propose(w.at(2)));
    } else if (cmd == "propose-conf-change") {
      ConfChange cc;
      cc.type = w.at(2) == "add-voter"     ? ConfChangeType::kAddVoter
                : w.at(2) == "add-learner" ? ConfChangeType::kAddLearner
                                           : ConfChangeType::kRemoveNode;
      cc.node_id = id(3);
      status(c_->node(id(1)).propose_conf_change(cc));
    } else if (cmd == "transfer-leadership") {
      status(c_->node(id(1)).transfer_leadership(id(2)));
    } else if (cmd == "read-index") {
      status(c_->node(id(1)).read_index(w.at(2)));
    } else if (cmd == "tick") {
      c_->tick(id(1), w.size() > 2 ? std::stoi(w[2]) : 1);
    } else if (cmd == "tick-all") {
      c_->tick_all(w.size() > 1 ? std::stoi(w[1]) : 1);
    } else if (cmd == "stabilize") {
      c_->stabilize();
    } else if (cmd == "isolate") {
      c_->isolate(id(1));
    } else if (cmd == "heal") {
      c_->heal();
    } else if (cmd == "restart") {
      c_->restart(id(1));
    } else if (cmd == "compact") {
      NodeId n = id(1);
      std::uint64_t applied = c_->raft(n).log().applied();
      status(c_->storage(n).create_snapshot(applied, c_->peer(n).conf, "snap").has_value()
                 ? core::ok()
                 : core::Status(core::make_error(core::Code::kConflict, "snapshot")));
      c_->storage(n).compact(applied);
      out_.push_back("snapshot and compact at " + std::to_string(applied));
    } else if (cmd == "report-snapshot") {
      c_->node(id(1)).report_snapshot(id(2), w.at(3) == "ok");
    } else if (cmd == "status") {
      const Raft& r = c_->raft(id(1));
      out_.push_back(std::string(role_name(r.role())) + " term=" + std::to_string(r.term()) +
                     " lead=" + std::to_string(r.lead()) + " vote=" + std::to_string(r.vote()) +
                     " commit=" + std::to_string(r.log().committed()) +
                     " applied=" + std::to_string(r.log().applied()) +
                     " last=" + std::to_string(r.log().last_index()) +
                     " voters=" + join(r.tracker().conf().voters) +
                     " learners=" + join(r.tracker().conf().learners));
    } else if (cmd == "log") {
      const RaftLog& log = c_->raft(id(1)).log();
      auto ents = log.slice(log.first_index(), log.last_index() + 1, UINT64_MAX);
      for (const Entry& e : *ents) out_.push_back(Cluster::describe(e));
    } else if (cmd == "progress") {
      for (const auto& [pid, pr] : c_->raft(id(1)).tracker().all()) {
        out_.push_back(
            std::to_string(pid) + ": " + std::string(progress_state_name(pr.state)) +
            " match=" + std::to_string(pr.match) + " next=" + std::to_string(pr.next) +
            (pr.is_learner ? " learner" : "") + (pr.probe_sent ? " paused" : "") +
            (pr.inflights.count() ? " inflight=" + std::to_string(pr.inflights.count()) : ""));
      }
    } else {
      ADD_FAILURE() << "unknown command " << cmd;
    }
    if (out_.empty()) out_.push_back("ok");
    return out_;
  }

 private:
  static std::string join(const std::vector<NodeId>& ids) {
    std::string s = "[";
    for (std::size_t i = 0; i < ids.size(); ++i) s += (i ? " " : "") + std::to_string(ids[i]);
    return s + "]";
  }

  void add_nodes(const std::vector<std::string>& w) {
    int n = std::stoi(w.at(1));
    std::vector<NodeId> voters;
    for (int i = 1; i <= n; ++i) voters.push_back(static_cast<NodeId>(i));
    std::vector<NodeId> learners;
    Config tweak;
    for (std::size_t i = 2; i < w.size(); ++i) {
      auto eq = w[i].find('=');
      std::string k = w[i].substr(0, eq);
      std::string v = w[i].substr(eq + 1);
      if (k == "learners") {
        std::istringstream in(v);
        for (std::string x; std::getline(in, x, ',');) learners.push_back(std::stoull(x));
      } else if (k == "pre-vote") {
        tweak.pre_vote = v == "true";
      } else if (k == "check-quorum") {
        tweak.check_quorum = v == "true";
      } else if (k == "max-size") {
        tweak.max_size_per_msg = std::stoull(v);
      } else if (k == "max-inflight") {
        tweak.max_inflight_msgs = std::stoull(v);
      } else if (k == "read-only") {
        tweak.read_only = v == "lease" ? ReadOnlyOption::kLeaseBased : ReadOnlyOption::kSafe;
      } else {
        ADD_FAILURE() << "unknown add-nodes option " << k;
      }
    }
    c_ = std::make_unique<Cluster>(
        voters,
        [tweak](Config& c) {
          c.pre_vote = tweak.pre_vote;
          c.check_quorum = tweak.check_quorum;
          c.max_size_per_msg = tweak.max_size_per_msg;
          c.max_inflight_msgs = tweak.max_inflight_msgs;
          c.read_only = tweak.read_only;
        },
        learners);
    c_->trace = &out_;
  }

  std::unique_ptr<Cluster> c_;
  std::vector<std::string> out_;
};

void run_trace(const std::string& name) {
  std::string path = std::string(RAFT_TESTDATA_DIR) + "/" + name;
  auto cases = parse(path);
  ASSERT_FALSE(cases.empty()) << path;
  bool rewrite = std::getenv("RAFT_TRACE_REWRITE") != nullptr;
  TraceRunner runner;
  std::string rewritten;
  for (Case& c : cases) {
    auto got = runner.run(c.command);
    if (rewrite) {
      for (const std::string& l : c.comments) rewritten += l + "\n";
      rewritten += c.command + "\n----\n";
      for (const std::string& l : got) rewritten += l + "\n";
      rewritten += "\n";
      continue;
    }
    if (got != c.expected) {
      std::string want;
      std::string have;
      for (const auto& l : c.expected) want += l + "\n";
      for (const auto& l : got) have += l + "\n";
      ADD_FAILURE() << path << ":" << c.line << ": " << c.command << "\nwant:\n"
                    << want << "got:\n"
                    << have << "(RAFT_TRACE_REWRITE=1 regenerates)";
      return;
    }
  }
  if (rewrite) {
    std::ofstream(path) << rewritten.substr(0, rewritten.size() - 1);
  }
}

TEST(RaftTrace, Election) {
  run_trace("election.txt");
}
TEST(RaftTrace, Replication) {
  run_trace("replication.txt");
}
TEST(RaftTrace, CheckQuorum) {
  run_trace("check_quorum.txt");
}
TEST(RaftTrace, Snapshot) {
  run_trace("snapshot.txt");
}
TEST(RaftTrace, ConfChange) {
  run_trace("conf_change.txt");
}
TEST(RaftTrace, Transfer) {
  run_trace("transfer.txt");
}
TEST(RaftTrace, ReadIndex) {
  run_trace("read_index.txt");
}

}  // namespace
}  // namespace pc::consensus::raft
