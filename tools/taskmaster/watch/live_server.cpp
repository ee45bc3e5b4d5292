#include "live_server.hpp"

#include <fmt/format.h>
#include <httplib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>
#include <stdexcept>

#include "history_follower.hpp"
#include "live_state.hpp"
#include "taskmaster/history/json_text.hpp"
#include "watch_assets.hpp"

namespace taskmaster::cli::watch {
namespace {

using namespace std::chrono_literals;

/// 128 random bits as hex: what the page must send to change the run.
std::string make_token() {
  std::random_device device;  // /dev/urandom on Linux
  std::string token;
  for (int i = 0; i < 4; ++i) token += fmt::format("{:08x}", device());
  return token;
}

/// Compares in time independent of where the texts differ.
bool same_secret(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

bool is_loopback(const std::string& address) {
  return address == "localhost" || address == "::1" || address.rfind("127.", 0) == 0;
}

/// Whether a request's Host header names this machine's loopback address.
/// A page of another site that a DNS name rebinds to 127.0.0.1 sends its
/// own name here: refusing it keeps the run's data from that site.
bool host_allowed(const std::string& host) {
  std::string name = host;
  if (!name.empty() && name.front() == '[') {
    name = name.substr(1, name.find(']') == std::string::npos ? 0 : name.find(']') - 1);
  } else if (const auto colon = name.rfind(':'); colon != std::string::npos) {
    name.resize(colon);
  }
  return is_loopback(name);
}

/// Lowers the calling thread's scheduling priority, once per thread. The
/// live view must not slow the run it shows: on a machine the run keeps
/// busy, the view's threads get what the run leaves (at nice +10 about a
/// tenth of a core's share against each of the run's threads), which is
/// plenty for a few messages a second; on an idle machine nothing changes.
void yield_to_the_run() {
  thread_local bool lowered = false;
  if (lowered) return;
  lowered = true;
  const auto self = static_cast<id_t>(::gettid());  // on Linux, one thread only
  errno = 0;
  const int now = ::getpriority(PRIO_PROCESS, self);
  if (errno == 0) ::setpriority(PRIO_PROCESS, self, std::min(now + 10, 19));
}

/// httplib's thread pool, with every thread yielding to the run.
class YieldingPool final : public httplib::TaskQueue {
 public:
  explicit YieldingPool(std::size_t threads) : pool_(threads) {}
  void enqueue(std::function<void()> fn) override {
    pool_.enqueue([fn = std::move(fn)] {
      yield_to_the_run();
      fn();
    });
  }
  void shutdown() override { pool_.shutdown(); }

 private:
  httplib::ThreadPool pool_;
};

/// The most workers one request may add or release: a typo must not start
/// thousands of programs.
constexpr long max_worker_change = 256;

/// The `change` of a request to /api/workers, if the body is valid.
std::optional<long> worker_change(const std::string& body) {
  const auto j = parse_json(body);  // depth bounded
  if (!j.is_object() || !j.contains("change") || !j["change"].is_number_integer())
    return std::nullopt;
  const auto change = j["change"].get<long>();
  if (change == 0 || change < -max_worker_change || change > max_worker_change) return std::nullopt;
  return change;
}

std::optional<std::size_t> read_index(const std::string& text) {
  std::size_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v > 1000) return std::nullopt;
  return v;
}

std::optional<std::vector<double>> read_numbers(const std::string& text) {
  std::vector<double> out;
  std::size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    const auto comma = std::min(text.find(',', start), text.size());
    const std::string part = text.substr(start, comma - start);
    char* end = nullptr;
    const double v = std::strtod(part.c_str(), &end);
    if (part.empty() || end != part.c_str() + part.size() || !std::isfinite(v)) return std::nullopt;
    out.push_back(v);
    if (out.size() > 1000) return std::nullopt;
    start = comma + 1;
  }
  return out;
}

void reply(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(nlohmann::json{{"error", message}}.dump(), "application/json");
}

}  // namespace

struct LiveServer::Impl {
  Impl(std::filesystem::path history, LiveOptions o, LiveControls c)
      : options(std::move(o)),
        controls(std::move(c)),
        state(history.string()),
        follower(std::move(history)) {}

  void routes(const std::string& token);
  void follow();
  void read_once();

  LiveOptions options;
  LiveControls controls;
  LiveState state;
  std::mutex follower_mutex;  ///< the follower thread and catch_up()
  HistoryFollower follower;
  httplib::Server server;
  std::thread listener, following;
  std::mutex stop_mutex;
  std::condition_variable stop_cv;
  std::atomic<bool> stopping{false};
  std::atomic<int> streams{0};

  /// New points one message to one watcher carries at most: what all the
  /// watchers together are sent stays about the same however many there
  /// are, so that on a machine the run keeps busy, serving 50 watchers
  /// costs the run about what serving 5 does.
  [[nodiscard]] std::size_t points_per_message() const {
    constexpr std::size_t all_watchers = 5000, least = 100;
    const auto watchers = static_cast<std::size_t>(std::max(1, streams.load()));
    return std::clamp(all_watchers / watchers, least, LiveState::max_points_per_update);
  }
};

void LiveServer::Impl::read_once() {
  std::lock_guard lock(follower_mutex);
  auto chunk = follower.poll();
  if (chunk.restarted) state.restart();
  for (const auto& line : chunk.lines) state.apply(line);
  state.publish(follower.found());
}

void LiveServer::Impl::follow() {
  while (!stopping) {
    read_once();
    // A tenth of a second: well within the second a watcher may wait, and
    // nothing like a busy loop. A file read in parts goes on at once.
    std::unique_lock lock(stop_mutex);
    if (!follower.behind()) stop_cv.wait_for(lock, 100ms, [&] { return stopping.load(); });
  }
}

void LiveServer::Impl::routes(const std::string& token) {
  const bool loopback_only = is_loopback(options.bind);
  server.set_default_headers({
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
      {"Cache-Control", "no-store"},
      // The page loads nothing from elsewhere, and nothing may frame it.
      {"Content-Security-Policy",
       "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'"},
  });
  server.set_pre_routing_handler(
      [loopback_only](const httplib::Request& req, httplib::Response& res) {
        if (loopback_only && !host_allowed(req.get_header_value("Host"))) {
          reply(res, 403, "the Host header must name the loopback address");
          return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
      });
  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) {
      reply(res, res.status, res.status == 404 ? "not found" : "bad request");
    }
  });
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res,
                                  std::exception_ptr) { reply(res, 500, "internal error"); });

  const auto serve_asset = [](const std::string& name, httplib::Response& res) {
    // Only the assets built into the program: no file is ever opened.
    const Asset* asset = find_asset(name);
    if (asset == nullptr) return reply(res, 404, "not found");
    res.set_content(std::string(asset->data), std::string(asset->type).c_str());
  };
  server.Get("/", [serve_asset](const httplib::Request&, httplib::Response& res) {
    serve_asset("index.html", res);
  });
  server.Get(R"(/assets/([A-Za-z0-9_.-]{1,64}))",
             [serve_asset](const httplib::Request& req, httplib::Response& res) {
               serve_asset(req.matches[1].str(), res);
             });
  server.Get("/api/server", [this](const httplib::Request&, httplib::Response& res) {
    nlohmann::json j{{"controls", nlohmann::json::array()}};
    if (controls.stop) j["controls"].push_back("stop");
    if (controls.workers) j["controls"].push_back("workers");
    res.set_content(j.dump(), "application/json");
  });
  server.Get("/api/snapshot", [this](const httplib::Request&, httplib::Response& res) {
    LiveState::Cursor cursor;
    res.set_content(state.snapshot(cursor), "application/json");
  });
  server.Get("/api/mesh", [this](const httplib::Request& req, httplib::Response& res) {
    MeshQuery q;
    const auto index = [&](const char* name, std::size_t& out) {
      if (!req.has_param(name)) return true;
      const auto v = read_index(req.get_param_value(name));
      if (v) out = *v;
      return v.has_value();
    };
    if (!index("x", q.x) || !index("y", q.y) || !index("c", q.component))
      return reply(res, 400, "x, y and c must be whole numbers from 0 to 1000");
    if (req.has_param("at")) {
      const auto at = read_numbers(req.get_param_value("at"));
      if (!at) return reply(res, 400, "at must be finite numbers separated by commas");
      q.at = *at;
    }
    res.set_content(state.mesh(q), "application/json");
  });
  server.Get("/api/events", [this](const httplib::Request& req, httplib::Response& res) {
    if (++streams > max_streams) {
      --streams;
      return reply(res, 503, "too many watchers");
    }
    auto cursor = std::make_shared<LiveState::Cursor>();
    auto started = std::make_shared<bool>(false);
    // ?full=1: the first message has every point (the page asks so once
    // updates keep up with the run); otherwise a sample of a large run.
    const bool full = req.get_param_value("full") == "1";
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, cursor, started, full](std::size_t, httplib::DataSink& sink) {
          std::optional<LiveState::Message> message;
          std::string text;
          if (!*started) {
            *started = true;
            message = LiveState::Message{
                "snapshot",
                state.snapshot(*cursor, full ? LiveState::unlimited : points_per_message())};
            text = "retry: 1000\n";
          } else {
            if (!stopping) state.wait_for_change(cursor->version, 15s);
            message = state.delta(*cursor, points_per_message());
          }
          // A comment keeps proxies and the browser from closing an idle stream.
          text += message ? fmt::format("event: {}\ndata: {}\n\n", message->kind, message->json)
                          : std::string(": idle\n\n");
          // The last word when the server stops: the page then closes the
          // stream rather than calling a server that is gone.
          const bool last = stopping;
          if (last) text += "event: bye\ndata: {}\n\n";
          if (!sink.write(text.data(), text.size())) return false;  // the watcher left
          if (last) {
            sink.done();
            return true;
          }
          // At most four messages a second, whatever the run's pace.
          std::unique_lock lock(stop_mutex);
          stop_cv.wait_for(lock, 250ms, [&] { return stopping.load(); });
          return true;
        },
        [this](bool) { --streams; });
  });
  // A header, not a cookie or a form field: another site's page cannot
  // send it without the browser asking this server first (CORS), and this
  // server never agrees.
  const auto allowed = [token](const httplib::Request& req) {
    return same_secret(req.get_header_value("X-Taskmaster-Token"), token);
  };
  server.Post("/api/stop", [this, allowed](const httplib::Request& req, httplib::Response& res) {
    if (!controls.stop)
      return reply(res, 404, "this server only watches; stop the run where it runs");
    if (!allowed(req))
      return reply(res, 403, "the token printed by taskmaster is needed to stop the run");
    controls.stop();
    res.set_content(R"({"stopping":true})", "application/json");
  });
  server.Post("/api/workers", [this, allowed](const httplib::Request& req, httplib::Response& res) {
    if (!controls.workers) return reply(res, 404, "this run's workers cannot be changed from here");
    if (!allowed(req))
      return reply(res, 403, "the token printed by taskmaster is needed to change the workers");
    const auto change = worker_change(req.body);
    if (!change) {
      return reply(res, 400,
                   fmt::format(R"(the body must be {{"change": N}} with N a whole number from )"
                               "-{0} to {0}, not 0",
                               max_worker_change));
    }
    const auto capacity = controls.workers(*change);
    if (!capacity) return reply(res, 409, "the run has no workers to change at the moment");
    res.set_content(nlohmann::json{{"workers", *capacity}}.dump(), "application/json");
  });
}

LiveServer::LiveServer(std::filesystem::path history, LiveOptions options, LiveControls controls)
    : impl_(std::make_unique<Impl>(std::move(history), std::move(options), std::move(controls))),
      token_(make_token()) {}

LiveServer::~LiveServer() { stop(); }

void LiveServer::start() {
  Impl& s = *impl_;
  // One thread per open connection: each event stream holds one, and a
  // few more answer the page's other requests meanwhile.
  s.server.new_task_queue = [] { return new YieldingPool(max_streams + 32); };
  // SO_REUSEADDR (a restarted server gets its port back at once) but not
  // httplib's default SO_REUSEPORT, which would let a second server share
  // the port (and its watchers) instead of being told it is taken.
  s.server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  s.server.set_keep_alive_timeout(2);
  s.server.set_read_timeout(5);
  s.server.set_write_timeout(5);
  s.server.set_payload_max_length(64 * 1024);
  s.routes(token_);
  const LiveOptions& o = s.options;
  bool bound = false;
  if (o.port == 0) {
    port_ = s.server.bind_to_any_port(o.bind);
    bound = port_ > 0;
  } else {
    bound = s.server.bind_to_port(o.bind, o.port);
    port_ = o.port;
    if (!bound && !o.port_given) {
      port_ = s.server.bind_to_any_port(o.bind);  // the default port is taken: any other
      bound = port_ > 0;
    }
  }
  if (!bound) {
    throw std::runtime_error(
        fmt::format("live view: cannot listen on {} port {} (in use, or not "
                    "an address of this machine)",
                    o.bind, o.port));
  }
  s.read_once();
  s.following = std::thread([&s] {
    yield_to_the_run();
    s.follow();
  });
  s.listener = std::thread([&s] {
    yield_to_the_run();
    s.server.listen_after_bind();
  });
}

void LiveServer::catch_up() {
  if (impl_->following.joinable()) impl_->read_once();
}

void LiveServer::stop() {
  Impl& s = *impl_;
  {
    std::lock_guard lock(s.stop_mutex);
    if (s.stopping.exchange(true)) return;
  }
  // The history's last lines, then a last message on every stream, before
  // the connections close: a page sees how the run ended.
  if (s.following.joinable()) s.read_once();
  s.stop_cv.notify_all();
  s.state.close();
  for (int i = 0; i < 100 && s.streams > 0; ++i) std::this_thread::sleep_for(10ms);
  s.server.stop();
  if (s.listener.joinable()) s.listener.join();
  if (s.following.joinable()) s.following.join();
}

std::string LiveServer::url() const {
  std::string host = impl_->options.bind;
  if (host == "0.0.0.0" || host == "::") {
    char name[256] = {};
    host = ::gethostname(name, sizeof name - 1) == 0 ? name : "localhost";
  } else if (host.find(':') != std::string::npos) {
    host = "[" + host + "]";
  }
  return fmt::format("http://{}:{}/#token={}", host, port_, token_);
}

}  // namespace taskmaster::cli::watch
