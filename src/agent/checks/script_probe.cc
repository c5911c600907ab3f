// The script probe: Consul's CheckMonitor.check() for one run of Args/ScriptArgs.
//
// The child is started with posix_spawnp (no fork of this multi-threaded process's memory) in
// a process group of its own, so a timeout can kill everything the script started, as
// Consul's KillCommandSubtree does. Its stdout and stderr share one close-on-exec pipe; only
// the child's copies (made by dup2 in the child) survive exec, so a script spawned on another
// thread at the same moment never holds this pipe open. The probe waits, as Go's cmd.Wait
// does, for both the child's exit and the end of its output; a pidfd lets one poll() watch
// both, and every path out reaps the child, so no zombie is left behind.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <mutex>
#include <set>
#include <thread>

#include "agent/checks/detail/net.h"
#include "agent/checks/detail/output.h"
#include "agent/checks/probe.h"
#include "core/duration.h"
#include "core/strings.h"

extern char** environ;

namespace pc::agent {
namespace {

using detail::UniqueFd;

// Without a pidfd (kernels before 5.3), the child's exit is noticed by polling waitpid.
constexpr int kReapPollMs = 10;

// A descriptor that polls readable when the child exits (close-on-exec by definition), or -1.
// Called through syscall(): glibc 2.36's <sys/pidfd.h> declares it without C linkage for C++.
int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  return -1;
#endif
}
// Reads per wake-up before the deadline is looked at again: a script that writes without
// pause cannot keep the probe reading past its timeout.
constexpr int kDrainReadsMax = 16;

// The process groups of scripts still running, for kill_running_scripts(). A pid leaves the
// set under the same mutex as it is reaped, so a group is never signalled after its leader's
// pid could have been reused.
struct RunningScripts {
  std::mutex mu;
  std::set<pid_t> groups;
};
RunningScripts& running_scripts() {
  static RunningScripts running;
  return running;
}

// A spawned child. Every way out of the probe reaps it; if it is still running then, its
// whole process group is killed first.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {
    std::lock_guard lock(running_scripts().mu);
    running_scripts().groups.insert(pid_);
  }
  ~Child() {
    if (!reaped_) kill_group_and_reap();
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool reaped() const { return reaped_; }
  // True when the exit status is known (false if someone else reaped the child).
  bool status_known() const { return status_known_; }
  int status() const { return status_; }

  void try_reap() {
    if (reaped_) return;
    std::lock_guard lock(running_scripts().mu);
    pid_t r = ::waitpid(pid_, &status_, WNOHANG);
    if (r == pid_) {
      reaped_ = status_known_ = true;
    } else if (r < 0 && errno == ECHILD) {
      reaped_ = true;  // SIGCHLD ignored or reaped elsewhere: the status is gone
    }
    if (reaped_) running_scripts().groups.erase(pid_);
  }

  void kill_group_and_reap() {
    // The group outlives its leader while any member lives, so this also reaches what the
    // script left running after it exited.
    ::kill(-pid_, SIGKILL);
    if (reaped_) return;
    ::kill(pid_, SIGKILL);
    std::lock_guard lock(running_scripts().mu);
    for (;;) {
      pid_t r = ::waitpid(pid_, &status_, 0);
      if (r == pid_) {
        status_known_ = true;
        break;
      }
      if (r < 0 && errno != EINTR) break;
    }
    reaped_ = true;
    running_scripts().groups.erase(pid_);
  }

 private:
  pid_t pid_;
  int status_ = 0;
  bool reaped_ = false;
  bool status_known_ = false;
};

// Go's os/exec wording: a bare name is looked up in PATH, a path is run as given.
std::string spawn_error_text(const std::string& name, int err) {
  if (name.find('/') == std::string::npos) {
    if (err == ENOENT || err == EACCES || err == ENOTDIR) {
      return "exec: " + core::go_quote(name) + ": executable file not found in $PATH";
    }
    return "exec: " + core::go_quote(name) + ": " + detail::errno_text(err);
  }
  return "fork/exec " + name + ": " + detail::errno_text(err);
}

struct SpawnActions {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnActions() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnActions() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;
};

// out_fd must be >= 3, so the dup2s onto 0..2 cannot clobber it.
core::Result<pid_t> spawn(const std::vector<std::string>& args, int out_fd) {
  SpawnActions s;
  posix_spawn_file_actions_addopen(&s.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&s.actions, out_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&s.actions, out_fd, STDERR_FILENO);
  // A fresh process group; no blocked signals; default dispositions (the agent may ignore
  // SIGPIPE, which a script must not inherit).
  sigset_t none;
  sigemptyset(&none);
  sigset_t all;
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  posix_spawnattr_setflags(&s.attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&s.attr, 0);
  posix_spawnattr_setsigmask(&s.attr, &none);
  posix_spawnattr_setsigdefault(&s.attr, &all);
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, argv[0], &s.actions, &s.attr, argv.data(), environ);
  if (rc != 0) return core::make_error(core::Code::kUnavailable, spawn_error_text(args[0], rc));
  return pid;
}

// Reads what the pipe holds now (a bounded number of reads); sets eof at its end.
void drain(int fd, detail::OutputTail& out, bool& eof) {
  char buf[16 * 1024];
  for (int i = 0; i < kDrainReadsMax; ++i) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n > 0) {
      out.write(std::string_view(buf, static_cast<std::size_t>(n)));
    } else if (n == 0) {
      eof = true;
      return;
    } else if (errno != EINTR) {
      if (errno != EAGAIN) eof = true;  // any other read error ends the output too
      return;
    }
  }
}

// Collects output until the child has exited and its output ended (true), or the deadline
// passed (false).
bool collect(Child& child, int out_fd, int pid_fd, detail::OutputTail& out, bool& eof,
             core::MonoTime deadline) {
  while (!(eof && child.reaped())) {
    int wait_ms = detail::poll_timeout_ms(deadline);
    if (wait_ms == 0) return false;
    if (pid_fd < 0 && !child.reaped()) wait_ms = std::min(wait_ms, kReapPollMs);
    pollfd fds[2] = {{eof ? -1 : out_fd, POLLIN, 0}, {child.reaped() ? -1 : pid_fd, POLLIN, 0}};
    if (::poll(fds, 2, wait_ms) < 0 && errno != EINTR) {
      std::this_thread::sleep_for(std::chrono::milliseconds(kReapPollMs));
    }
    if (!eof) drain(out_fd, out, eof);
    child.try_reap();
  }
  return true;
}

ProbeResult exit_result(const Child& child, const detail::OutputTail& out) {
  std::string text = detail::captured_output(out);
  if (child.status_known() && WIFEXITED(child.status())) {
    int code = WEXITSTATUS(child.status());
    if (code == 0) return detail::probe_result(kProbePassing, std::move(text));
    if (code == 1) return detail::probe_result(kProbeWarning, std::move(text));
  }
  return detail::probe_result(kProbeCritical, std::move(text));
}

// A pipe whose ends are both close-on-exec and numbered >= 3.
core::Result<std::pair<UniqueFd, UniqueFd>> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return core::make_error(core::Code::kIoError, "pipe: " + detail::errno_text(errno));
  }
  UniqueFd ends[2] = {UniqueFd(fds[0]), UniqueFd(fds[1])};
  for (auto& end : ends) {
    if (end.get() >= 3) continue;
    UniqueFd moved(::fcntl(end.get(), F_DUPFD_CLOEXEC, 3));
    if (!moved.valid()) {
      return core::make_error(core::Code::kIoError, "pipe: " + detail::errno_text(errno));
    }
    end = std::move(moved);
  }
  return std::make_pair(std::move(ends[0]), std::move(ends[1]));
}

ProbeResult run_script(const std::vector<std::string>& args, core::Duration timeout,
                       std::size_t output_size_max) {
  if (args.empty()) {
    return detail::probe_result(kProbeCritical, "invalid check: Args is empty, nothing to run");
  }
  for (const auto& arg : args) {
    if (arg.find('\0') != std::string::npos) {
      return detail::probe_result(kProbeCritical, spawn_error_text(args[0], EINVAL));
    }
  }
  timeout = detail::effective_timeout(timeout, probe_script_timeout_default);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pipe = make_pipe();
  if (!pipe) return detail::probe_result(kProbeCritical, pipe.error().message);
  auto& [read_end, write_end] = *pipe;
  auto pid = spawn(args, write_end.get());
  if (!pid) return detail::probe_result(kProbeCritical, pid.error().message);
  Child child(*pid);
  write_end.reset();  // the child's copies are the only writers left
  ::fcntl(read_end.get(), F_SETFL, ::fcntl(read_end.get(), F_GETFL) | O_NONBLOCK);
  UniqueFd pid_fd(open_pidfd(*pid));
  detail::OutputTail out(output_size_max);
  bool eof = false;
  if (collect(child, read_end.get(), pid_fd.get(), out, eof, deadline)) {
    return exit_result(child, out);
  }
  child.kill_group_and_reap();
  if (!eof) drain(read_end.get(), out, eof);  // what was written before the kill
  std::string text = "Timed out (" + core::format_go_duration(timeout) + ") running check";
  std::string captured = detail::captured_output(out);
  if (!captured.empty()) text += "\n\n" + captured;
  return detail::probe_result(kProbeCritical, std::move(text));
}

}  // namespace

void kill_running_scripts() {
  std::lock_guard lock(running_scripts().mu);
  for (pid_t group : running_scripts().groups) ::kill(-group, SIGKILL);
}

ProbeResult probe_script(const std::vector<std::string>& args, core::Duration timeout,
                         std::size_t output_size_max) {
  try {
    return run_script(args, timeout, output_size_max);
  } catch (const std::exception& e) {
    return detail::probe_result(kProbeCritical, std::string("script check failed: ") + e.what());
  } catch (...) {
    return detail::probe_result(kProbeCritical, "script check failed: unknown error");
  }
}

}  // namespace pc::agent
