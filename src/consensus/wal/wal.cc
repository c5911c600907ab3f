#include "consensus/wal/wal.h"

#include <fmt/core.h>

#include <algorithm>
#include <map>

#include "core/assert.h"
#include "core/log.h"

namespace pc::consensus::wal {
namespace {

using core::Code;
using core::Result;
using core::Status;

constexpr std::string_view kLogModule = "wal";
// Entry payload bytes before the data: term, index, type.
constexpr std::size_t kEntryOverhead = 17;

core::Error invalid(std::string message) {
  return core::make_error(Code::kInvalidArgument, std::move(message));
}

bool conf_fits(const raft::ConfState& conf) {
  return conf.voters.size() <= kConfMembersMax && conf.learners.size() <= kConfMembersMax &&
         conf.voters_outgoing.size() <= kConfMembersMax;
}

struct FoundSegment {
  SegmentName name;
  std::string path;
};

// The segment files of `dir`, in sequence order. Other files are left alone (an operator's
// notes, a future format's files); a *.wal file we cannot name is refused, since silently
// skipping it could skip log.
Result<std::vector<FoundSegment>> find_segments(Env& env, const std::string& dir) {
  auto names = env.list_dir(dir);
  if (!names) return names.error();
  std::map<std::uint64_t, FoundSegment> by_seq;
  for (const std::string& file : *names) {
    if (file.size() < 4 || file.substr(file.size() - 4) != ".wal") continue;
    auto name = parse_segment_file_name(file);
    std::string path = dir + "/" + file;
    if (!name) {
      return core::make_error(Code::kCorruption, fmt::format("{}: not a segment file name (want "
                                                             "<16 hex digits>-<16 hex digits>.wal)",
                                                             path));
    }
    auto [it, inserted] = by_seq.emplace(name->seq, FoundSegment{*name, path});
    if (!inserted) {
      return core::make_error(
          Code::kCorruption, fmt::format("{} and {}: same sequence number", it->second.path, path));
    }
  }
  std::vector<FoundSegment> out;
  for (auto& [seq, found] : by_seq) {
    if (!out.empty() && seq != out.back().name.seq + 1) {
      return core::make_error(Code::kCorruption, fmt::format("missing segment between {} and {}",
                                                             out.back().path, found.path));
    }
    out.push_back(std::move(found));
  }
  return out;
}

}  // namespace

Wal::Wal(Env& env, std::string dir, WalOptions options)
    : env_(env), dir_(std::move(dir)), options_(options) {}

Wal::~Wal() {
  // Buffered, unsynced appends are dropped, exactly as a crash would drop them.
  if (file_) (void)file_->close();
}

Result<Wal::Opened> Wal::open(Env& env, std::string dir, WalOptions options) {
  PC_ASSERT(options.segment_size_bytes > 0, "segment size must be positive");
  auto context = [&dir](const core::Error& e) { return e.with_context("wal " + dir); };
  if (auto s = env.create_dirs(dir); !s) return context(s.error());
  auto found = find_segments(env, dir);
  if (!found) return context(found.error());

  // Read and check everything before changing anything, so a refusal leaves the files as
  // they were for an operator (or a peer repair) to deal with.
  std::unique_ptr<Wal> wal(new Wal(env, dir, options));
  Replay replay;
  SegmentReplay tail;
  for (std::size_t i = 0; i < found->size(); ++i) {
    const FoundSegment& seg = (*found)[i];
    auto bytes = env.read_file(seg.path);
    if (!bytes) return context(bytes.error());
    bool last = i + 1 == found->size();
    auto replayed = replay.add_segment(seg.name, *bytes, last, seg.path);
    if (!replayed) return context(replayed.error());
    wal->segments_.push_back(
        Segment{seg.name, seg.path, replayed->max_entry_index, replayed->valid_size});
    tail = *replayed;
  }
  auto recovered = replay.finish();
  if (!recovered) return context(recovered.error());
  wal->next_index_ = replay.next_index();
  wal->hard_state_ = recovered->hard_state;
  wal->snapshot_ = recovered->snapshot;

  if (auto s = wal->repair_tail(tail); !s) return context(s.error());
  return Opened{std::move(wal), std::move(*recovered)};
}

// Cuts away the one kind of damage a crash causes, then opens the newest segment for
// appending after its last good record (creating the first segment of an empty WAL).
Status Wal::repair_tail(const SegmentReplay& tail) {
  std::uint64_t next_seq = 1;
  if (!segments_.empty() && !tail.has_header) {
    // A roll crashed before the new segment's header reached the disk; the previous
    // segment, synced before the roll, is the tail again.
    const Segment& torn = segments_.back();
    core::log::warn(kLogModule, "removing segment {} that has no complete header{}", torn.path,
                    tail.torn_tail ? ": " + *tail.torn_tail : std::string());
    next_seq = torn.name.seq;
    if (auto s = env_.remove_file(torn.path); !s) return s;
    if (auto s = env_.sync_dir(dir_); !s) return s;
    segments_.pop_back();
  } else if (tail.torn_tail) {
    core::log::warn(kLogModule, "truncating a torn tail: {}", *tail.torn_tail);
    if (auto s = env_.truncate_file(segments_.back().path, tail.valid_size); !s) {
      return s;
    }
  }

  if (segments_.empty()) {
    if (auto s = start_segment(SegmentName{next_seq, next_index_}); !s) return s;
    return sync();
  }
  const Segment& open = segments_.back();
  auto file = env_.open_at(open.path, open.valid_size, preallocate_bytes());
  if (!file) return file.error();
  file_ = std::move(*file);
  segment_size_ = open.valid_size;
  return core::ok();
}

std::uint64_t Wal::preallocate_bytes() const {
  return options_.preallocate ? options_.segment_size_bytes : 0;
}

Status Wal::fail(core::Error error) {
  core::log::error(kLogModule, "wal {} failed, refusing further writes: {}", dir_, error.message);
  failed_ = error;
  return error;
}

Status Wal::start_segment(SegmentName name) {
  std::string path = dir_ + "/" + segment_file_name(name);
  auto file = env_.create_file(path, preallocate_bytes());
  if (!file) return fail(file.error());
  file_ = std::move(*file);
  segments_.push_back(Segment{name, path, 0});
  segment_size_ = 0;
  dir_unsynced_ = true;
  SegmentHeader header{name.seq, name.first_index, hard_state_, snapshot_};
  std::string payload = encode_segment_header(header);
  append_record(RecordType::kSegmentHeader, payload, &buffer_);
  segment_size_ += kFrameHeaderSize + payload.size();
  unsynced_ = true;
  return core::ok();
}

Status Wal::flush() {
  if (buffer_.empty()) return core::ok();
  Status s = file_->append(buffer_);
  buffer_.clear();
  if (!s) return fail(s.error());
  return core::ok();
}

Status Wal::roll() {
  // The old segment must be durable before any byte of the new one can be: recovery treats
  // damage anywhere but the newest segment as corruption.
  if (auto s = flush(); !s) return s;
  if (auto s = file_->sync(); !s) return fail(s.error());
  unsynced_ = false;
  if (auto s = file_->close(); !s) return fail(s.error());
  file_.reset();
  const SegmentName& last = segments_.back().name;
  return start_segment(SegmentName{last.seq + 1, next_index_});
}

Status Wal::write_record(RecordType type, std::string_view payload) {
  if (segment_size_ >= options_.segment_size_bytes) {
    if (auto s = roll(); !s) return s;
  }
  append_record(type, payload, &buffer_);
  segment_size_ += kFrameHeaderSize + payload.size();
  unsynced_ = true;
  if (buffer_.size() >= options_.write_buffer_bytes) return flush();
  return core::ok();
}

Status Wal::append(std::span<const raft::Entry> entries,
                   const std::optional<raft::HardState>& hard_state) {
  if (failed_) return *failed_;
  // Validate the whole batch first, so a refused batch writes nothing.
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const raft::Entry& e = entries[i];
    if (i > 0 && e.index != entries[i - 1].index + 1) {
      return invalid(
          fmt::format("entries not contiguous: {} after {}", e.index, entries[i - 1].index));
    }
    if (e.type != raft::EntryType::kNormal && e.type != raft::EntryType::kConfChange) {
      return invalid(fmt::format("entry {}: unknown type {}", e.index, static_cast<int>(e.type)));
    }
    if (e.data.size() > kRecordPayloadSizeMax - kEntryOverhead) {
      return core::make_error(Code::kTooLarge,
                              fmt::format("entry {}: {} bytes over the limit {}", e.index,
                                          e.data.size(), kRecordPayloadSizeMax - kEntryOverhead));
    }
  }
  if (!entries.empty()) {
    if (auto why = check_entry_follows(entries.front().index, snapshot_, next_index_)) {
      return invalid(*why);
    }
  }
  for (const raft::Entry& e : entries) {
    if (auto s = write_record(RecordType::kEntry, encode_entry(e)); !s) return s;
    // After write_record: a roll may have moved the record to a new segment.
    Segment& seg = segments_.back();
    seg.max_entry_index = std::max(seg.max_entry_index, e.index);
    next_index_ = e.index + 1;
  }
  if (hard_state) {
    if (auto s = write_record(RecordType::kHardState, encode_hard_state(*hard_state)); !s) {
      return s;
    }
    hard_state_ = *hard_state;
  }
  return core::ok();
}

Status Wal::sync() {
  if (failed_) return *failed_;
  if (auto s = flush(); !s) return s;
  if (unsynced_) {
    if (auto s = file_->sync(); !s) return fail(s.error());
    unsynced_ = false;
  }
  if (dir_unsynced_) {
    // A new segment's data is reachable after a crash only once its directory entry is.
    if (auto s = env_.sync_dir(dir_); !s) return fail(s.error());
    dir_unsynced_ = false;
  }
  return core::ok();
}

Status Wal::save(const raft::HardState& hard_state, std::span<const raft::Entry> entries) {
  std::optional<raft::HardState> changed;
  if (!hard_state.empty() && !(hard_state == hard_state_)) changed = hard_state;
  if (auto s = append(entries, changed); !s) return s;
  return sync();
}

Status Wal::save_snapshot(const raft::SnapshotMeta& snapshot, bool discard_log) {
  if (failed_) return *failed_;
  if (auto why = check_snapshot_follows(snapshot, snapshot_)) return invalid(*why);
  if (!conf_fits(snapshot.conf)) {
    return core::make_error(Code::kTooLarge,
                            fmt::format("snapshot {}: configuration over {} members per list",
                                        snapshot.index, kConfMembersMax));
  }
  SnapshotMarker marker{snapshot, discard_log};
  if (auto s = write_record(RecordType::kSnapshot, encode_snapshot(marker)); !s) return s;
  next_index_ = next_index_after_snapshot(marker, next_index_);
  snapshot_ = snapshot;
  return sync();
}

Status Wal::release_to(std::uint64_t index) {
  if (failed_) return *failed_;
  if (index > snapshot_.index) {
    return invalid(
        fmt::format("release_to({}) beyond the snapshot marker {}", index, snapshot_.index));
  }
  // The marker, and the header of the newest segment that restates it, must be on disk
  // before the segments it makes redundant go.
  if (auto s = sync(); !s) return s;
  while (segments_.size() > 1 && segments_.front().max_entry_index <= index) {
    const Segment& oldest = segments_.front();
    if (auto s = env_.remove_file(oldest.path); !s) return fail(s.error());
    // One directory fsync per removal keeps removals in order across a crash: a later
    // segment never disappears while an older one stays, which recovery would refuse as a
    // missing segment.
    if (auto s = env_.sync_dir(dir_); !s) return fail(s.error());
    core::log::debug(kLogModule, "released {}", oldest.path);
    segments_.erase(segments_.begin());
  }
  return core::ok();
}

}  // namespace pc::consensus::wal
