#pragma once
// The live view's web server: the page and its assets, the run's data as
// JSON, a stream of Server-Sent Events with what is new, and (for the
// process that runs the run) buttons to stop it and to add or release
// workers, guarded by a token.

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace taskmaster::cli::watch {

/// Where the live view listens.
///
/// @code
/// taskmaster::cli::watch::LiveOptions options{.port = 0};  // any free port
/// @endcode
struct LiveOptions {
  /// Loopback by default: the run's data and its command line are nobody
  /// else's business. "0.0.0.0" opens it to the network.
  std::string bind = "127.0.0.1";
  /// 0: any free port. The default one falls back to any free port when
  /// taken; one given explicitly must be free.
  int port = default_port;
  bool port_given = false;

  static constexpr int default_port = 8765;
};

/// What the page of the process that runs the run may change in it; each
/// request needs the token. An empty function: no such control.
struct LiveControls {
  /// The stop button: stop asking for points, as Ctrl-C does.
  std::function<void()> stop;
  /// The worker buttons: `change` more workers (fewer when negative).
  /// Returns the master's capacity afterwards, or nothing when the run has
  /// no master to change at the moment (not started yet, or ended).
  std::function<std::optional<std::size_t>(long change)> workers;
};

/// Serves the live view of the run recorded in a history file, following
/// the file as it grows (in a thread of its own) and answering on a pool of
/// threads. Stops when destroyed.
///
/// @code
/// taskmaster::cli::watch::LiveControls controls;
/// controls.stop = [&] { stop_requested = true; };
/// taskmaster::cli::watch::LiveServer server("run.jsonl", {}, std::move(controls));
/// server.start();
/// fmt::print("live view at {}\n", server.url());
/// @endcode
class LiveServer {
 public:
  /// `controls`: what the page's buttons do (POST /api/stop and
  /// /api/workers, with the token); without them the page only watches.
  LiveServer(std::filesystem::path history, LiveOptions options, LiveControls controls = {});
  LiveServer(const LiveServer&) = delete;
  LiveServer& operator=(const LiveServer&) = delete;
  ~LiveServer();

  /// Binds and starts serving; throws std::runtime_error if the address
  /// cannot be bound.
  void start();
  /// Reads the history once more, so that watchers see its last lines.
  void catch_up();
  void stop();

  /// The page's address, with the token after '#' (never sent to a server,
  /// never in a Referer).
  [[nodiscard]] std::string url() const;
  [[nodiscard]] int port() const noexcept { return port_; }
  [[nodiscard]] const std::string& token() const noexcept { return token_; }

  /// Event streams served at once at most; more are answered 503.
  static constexpr int max_streams = 128;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  std::string token_;
};

}  // namespace taskmaster::cli::watch
