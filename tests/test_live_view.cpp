// The live view's server (`taskmaster watch`, `taskmaster run --live`) over
// HTTP on loopback: the data, the event stream, the assets, and requests
// that must be refused without harm.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "helpers/cli_tool.hpp"

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using nlohmann::json;

/// The taskmaster command in a process of its own (see helpers/cli_tool.hpp),
/// with what these tests read of it: the address it prints.
class Taskmaster : public taskmaster::test_support::Tool {
 public:
  Taskmaster(const fs::path& dir, std::vector<std::string> args) : Tool(dir, std::move(args)) {}

  /// The address the tool printed ("http://127.0.0.1:PORT/#token=..."), waited for.
  std::string url(std::chrono::seconds patience = 30s) const {
    static const std::regex address(R"(http://[^ \n]+)");
    const auto until = std::chrono::steady_clock::now() + patience;
    while (std::chrono::steady_clock::now() < until) {
      std::smatch m;
      const std::string text = err();
      if (std::regex_search(text, m, address)) return m.str();
      std::this_thread::sleep_for(20ms);
    }
    return {};
  }
  /// Waits for the process to end and returns its exit status (-1: it did
  /// not end in time, and was killed).
  int wait(std::chrono::seconds patience = 60s) { return wait_for(patience).value_or(-1); }
  [[nodiscard]] std::string stderr_text() const { return err(); }
};

int port_of(const std::string& url) {
  static const std::regex port(R"(:(\d+)/)");
  std::smatch m;
  return std::regex_search(url, m, port) ? std::stoi(m[1]) : 0;
}

std::string token_of(const std::string& url) { return url.substr(url.find("#token=") + 7); }

/// Sends `request` as it is (no client library tidies it up) and returns
/// what came back before the server closed the connection.
std::string raw_request(int port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return "connect failed";
  }
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close early on a request it refuses
    sent += static_cast<std::size_t>(n);
  }
  std::string reply;
  char buffer[4096];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) reply.append(buffer, n);
  ::close(fd);
  return reply;
}

int status_of(const std::string& reply) {
  return reply.rfind("HTTP/1.1 ", 0) == 0 ? std::stoi(reply.substr(9, 3)) : 0;
}

class LiveView : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("taskmaster-live-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// A finished run of 20 points of y = x, recorded in `name`.
  fs::path finished_run(const std::string& name = "run.jsonl") {
    const fs::path history = dir_ / name;
    Taskmaster run(dir_, {"run", "--bounds", "-1,1", "--goal", "npoints=20", "-j", "2", "-q",
                          "--history", history.string(), "--", "/bin/echo", "{x}"});
    EXPECT_EQ(run.wait(), 0) << run.stderr_text();
    return history;
  }

  /// A finished run of `points` points that came as fast as a worker answers.
  fs::path fast_finished_run(const std::string& name, int points) {
    const fs::path history = dir_ / name;
    Taskmaster run(dir_, {"run", "--bounds", "-1,1", "--goal", "npoints=" + std::to_string(points),
                          "-j", "2", "-q", "--history", history.string(), "--worker",
                          "/usr/bin/python3 " + taskmaster::test_support::cli_source_dir +
                              "/examples/workers/python_worker.py"});
    EXPECT_EQ(run.wait(), 0) << run.stderr_text();
    return history;
  }

  /// The arguments of a run with its live view that goes on until stopped
  /// (2 workers, 50 ms a point).
  static std::vector<std::string> long_live_run(const fs::path& history) {
    return {"run",
            "--bounds",
            "0,1",
            "--goal",
            "npoints=100000",
            "-j",
            "2",
            "-q",
            "--live",
            "0",
            "--history",
            history.string(),
            "--",
            "/bin/sh",
            "-c",
            "sleep 0.05; echo \"$1\"",
            "sh",
            "{x}"};
  }

  static json get_json(httplib::Client& client, const std::string& path) {
    auto r = client.Get(path.c_str());
    if (!r || r->status != 200) return json();
    return json::parse(r->body);
  }

  fs::path dir_;
};

TEST_F(LiveView, ServesTheDataOfAFinishedRun) {
  const auto history = finished_run();
  Taskmaster watch(dir_, {"watch", history.string(), "--port", "0"});
  const std::string url = watch.url();
  ASSERT_FALSE(url.empty()) << watch.stderr_text();
  EXPECT_EQ(url.rfind("http://127.0.0.1:", 0), 0u) << "loopback by default";
  httplib::Client client("127.0.0.1", port_of(url));
  const json snapshot = get_json(client, "/api/snapshot");
  ASSERT_TRUE(snapshot.is_object());
  EXPECT_EQ(snapshot["status"]["told"], 20);
  EXPECT_EQ(snapshot["status"]["phase"], "ended");
  EXPECT_EQ(snapshot["points"].size(), 20u);
  EXPECT_EQ(snapshot["run"]["learner"], "1d");
  EXPECT_EQ(snapshot["run"]["program"], "/bin/echo '{x}'");
  EXPECT_EQ(snapshot["run"]["seed"], 0);
  for (const auto& p : snapshot["points"]) EXPECT_EQ(p[0], p[1]) << "y = x";
  EXPECT_FALSE(snapshot["series"].empty());
  EXPECT_TRUE(snapshot["status"]["loss"].is_number());
  // A watcher only looks: no controls.
  EXPECT_EQ(get_json(client, "/api/server")["controls"], json::array());
  auto stop = client.Post("/api/stop", "", "text/plain");
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->status, 404);
  watch.signal(SIGINT);
  EXPECT_EQ(watch.wait(), 0);
}

TEST_F(LiveView, ServesItsAssetsAndNothingElse) {
  const auto history = finished_run();
  Taskmaster watch(dir_, {"watch", history.string(), "--port", "0"});
  const int port = port_of(watch.url());
  ASSERT_GT(port, 0);
  httplib::Client client("127.0.0.1", port);
  auto page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->get_header_value("Content-Type").find("text/html"), std::string::npos);
  EXPECT_NE(page->body.find("assets/app.js"), std::string::npos);
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("default-src 'self'"),
            std::string::npos);
  for (const char* asset : {"/assets/app.js", "/assets/plot.js", "/assets/style.css"}) {
    auto r = client.Get(asset);
    ASSERT_TRUE(r) << asset;
    EXPECT_EQ(r->status, 200) << asset;
    EXPECT_GT(r->body.size(), 500u) << asset;
  }
  for (const char* missing :
       {"/assets/nothing.js", "/api/nothing", "/nothing", "/index.htm", "/assets/", "/api"}) {
    auto r = client.Get(missing);
    ASSERT_TRUE(r) << missing;
    EXPECT_EQ(r->status, 404) << missing;
  }
  // Traversal, as a browser would never send it: raw bytes on the socket.
  for (const char* path :
       {"/assets/../../../../etc/passwd", "/assets/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/assets/%2e%2e",
        "/assets/....//....//etc/passwd", "/assets/..\\..\\CMakeLists.txt", "//etc/passwd",
        "/assets/%00app.js", "/api/../../run.jsonl", "/run.jsonl"}) {
    const std::string reply =
        raw_request(port, std::string("GET ") + path +
                              " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    const int status = status_of(reply);
    EXPECT_TRUE(status >= 400 && status < 500) << path << " gave " << reply.substr(0, 80);
    EXPECT_EQ(reply.find("root:"), std::string::npos) << path;
    EXPECT_EQ(reply.find("taskmaster_history"), std::string::npos) << path;
  }
}

TEST_F(LiveView, RefusesBadRequestsAndKeepsServing) {
  const auto history = finished_run();
  Taskmaster watch(dir_, {"watch", history.string(), "--port", "0"});
  const int port = port_of(watch.url());
  ASSERT_GT(port, 0);
  const std::string huge(1 << 20, 'a');
  const std::vector<std::string> requests = {
      "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Huge: " + huge + "\r\n\r\n",
      "GET /" + huge + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
      "NOT HTTP AT ALL\r\n\r\n",
      "GET /api/snapshot HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
      "GET /api/mesh?x=banana HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
      "GET /api/mesh?at=1,nan HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
      "POST /api/stop HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999\r\n\r\nxx",
  };
  for (const auto& request : requests) {
    const std::string reply = raw_request(port, request);
    const int status = status_of(reply);
    // Refused with a 4xx, or the connection closed without an answer:
    // never a crash, never a 5xx.
    EXPECT_TRUE(status == 0 || (status >= 400 && status < 500))
        << request.substr(0, 60) << " gave " << reply.substr(0, 80);
  }
  EXPECT_EQ(status_of(raw_request(port, requests[3])), 403) << "a foreign Host header";
  // Still serving.
  httplib::Client client("127.0.0.1", port);
  EXPECT_EQ(get_json(client, "/api/snapshot")["status"]["told"], 20);
}

/// An event stream read in a thread of its own: the events so far.
class EventStream {
 public:
  explicit EventStream(int port, std::string path = "/api/events") : client_("127.0.0.1", port) {
    client_.set_read_timeout(20, 0);
    thread_ = std::thread([this, path = std::move(path)] {
      client_.Get(path, [this](const char* data, std::size_t n) {
        std::lock_guard lock(mutex_);
        text_.append(data, n);
        return !done_;
      });
    });
  }
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;
  ~EventStream() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    client_.stop();
    thread_.join();
  }
  /// The data of every event of that kind received so far.
  std::vector<json> events(const std::string& kind) {
    std::lock_guard lock(mutex_);
    std::vector<json> out;
    const std::string head = "event: " + kind + "\ndata: ";
    for (auto at = text_.find(head); at != std::string::npos; at = text_.find(head, at + 1)) {
      const auto begin = at + head.size();
      const auto end = text_.find("\n\n", begin);
      if (end == std::string::npos) break;
      out.push_back(json::parse(text_.substr(begin, end - begin)));
    }
    return out;
  }
  /// Waits until `ready(events(kind))` holds; false after `patience`.
  template <class F>
  bool wait_for(const std::string& kind, F ready, std::chrono::milliseconds patience = 5000ms) {
    const auto until = std::chrono::steady_clock::now() + patience;
    while (std::chrono::steady_clock::now() < until) {
      if (ready(events(kind))) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

 private:
  httplib::Client client_;
  std::thread thread_;
  std::mutex mutex_;
  std::string text_;
  bool done_ = false;
};

TEST_F(LiveView, StreamsWhatIsAppendedWithinASecond) {
  const auto finished = finished_run("finished.jsonl");
  std::vector<std::string> lines;
  {
    std::istringstream in(taskmaster::test_support::read_file(finished));
    for (std::string line; std::getline(in, line);) lines.push_back(line + "\n");
  }
  // The run so far: its header and events up to the first tell.
  const fs::path history = dir_ / "growing.jsonl";
  std::size_t next = 0;
  {
    std::ofstream out(history);
    while (next < lines.size() && lines[next].find("\"tell\"") == std::string::npos)
      out << lines[next++];
  }
  Taskmaster watch(dir_, {"watch", history.string(), "--port", "0"});
  const int port = port_of(watch.url());
  ASSERT_GT(port, 0);
  EventStream stream(port);
  ASSERT_TRUE(stream.wait_for("snapshot", [](const auto& e) { return !e.empty(); }));
  EXPECT_EQ(stream.events("snapshot")[0]["status"]["told"], 0);
  EXPECT_EQ(stream.events("snapshot")[0]["status"]["phase"], "running");

  // Half a line, as a reader may catch a write: not a point yet.
  const std::string tell = lines.at(next);
  std::ofstream out(history, std::ios::app);
  out << tell.substr(0, tell.size() / 2) << std::flush;
  std::this_thread::sleep_for(500ms);
  const auto told = [](const auto& events) {
    std::size_t n = 0;
    for (const auto& e : events) n += e["points"].size();
    return n;
  };
  EXPECT_EQ(told(stream.events("update")), 0u);
  // The rest of it: the point arrives within a second.
  const auto written = std::chrono::steady_clock::now();
  out << tell.substr(tell.size() / 2) << std::flush;
  ASSERT_TRUE(stream.wait_for(
      "update", [&](const auto& e) { return told(e) == 1; }, 1000ms));
  EXPECT_LT(std::chrono::steady_clock::now() - written, 1000ms);
  // The rest of the run, to its end.
  for (++next; next < lines.size(); ++next) out << lines[next];
  out << std::flush;
  ASSERT_TRUE(stream.wait_for("update", [&](const auto& e) {
    return told(e) == 20 && !e.empty() && e.back()["status"]["phase"] == "ended";
  }));
  // Another run takes the name: the watchers start over.
  const fs::path replacement = dir_ / "replacement.jsonl";
  {
    std::ofstream r(replacement);
    r << lines[0];
  }
  fs::rename(replacement, history);
  ASSERT_TRUE(stream.wait_for("snapshot", [](const auto& e) { return e.size() == 2; }));
  EXPECT_EQ(stream.events("snapshot")[1]["status"]["told"], 0);
  EXPECT_EQ(stream.events("snapshot")[1]["generation"], 2);
}

TEST_F(LiveView, AFastRunIsStreamedAsASampleAndServedWhole) {
  // 3000 points that arrive at once: more than one update carries.
  const fs::path finished = fast_finished_run("finished.jsonl", 3000);
  std::istringstream in(taskmaster::test_support::read_file(finished));
  std::string header;
  std::getline(in, header);
  const std::string rest{std::istreambuf_iterator<char>(in), {}};
  const fs::path history = dir_ / "growing.jsonl";
  std::ofstream(history) << header << "\n";
  fs::create_directories(dir_ / "watch");
  Taskmaster watch(dir_ / "watch", {"watch", history.string(), "--port", "0"});
  const int port = port_of(watch.url());
  ASSERT_GT(port, 0);
  EventStream stream(port);
  ASSERT_TRUE(stream.wait_for("snapshot", [](const auto& e) { return !e.empty(); }));
  std::ofstream(history, std::ios::app) << rest << std::flush;
  ASSERT_TRUE(stream.wait_for("update", [](const auto& e) {
    return !e.empty() && e.back()["status"]["phase"] == "ended";
  }));
  std::size_t streamed = 0;
  bool sampled = false;
  for (const auto& u : stream.events("update")) {
    EXPECT_LE(u["points"].size(), 1000u);
    streamed += u["points"].size();
    sampled = sampled || u["points_sampled"].get<bool>();
  }
  EXPECT_TRUE(sampled);
  EXPECT_LT(streamed, 3000u);
  // A snapshot has every point, and the sample's last point is the run's last.
  httplib::Client client("127.0.0.1", port);
  const json all = get_json(client, "/api/snapshot");
  ASSERT_EQ(all["points"].size(), 3000u);
  EXPECT_EQ(stream.events("update").back()["status"]["told"], 3000);
  json last;
  for (const auto& u : stream.events("update")) {
    if (!u["points"].empty()) last = u["points"].back();
  }
  EXPECT_EQ(last, all["points"].back());
  watch.signal(SIGTERM);
  EXPECT_EQ(watch.wait(), 0);
}

TEST_F(LiveView, ManyWatchersOfALargeRunShareABoundedAmountOfPoints) {
  const fs::path history = fast_finished_run("large.jsonl", 3000);
  fs::create_directories(dir_ / "watch");
  Taskmaster watch(dir_ / "watch", {"watch", history.string(), "--port", "0"});
  const int port = port_of(watch.url());
  ASSERT_GT(port, 0);
  const auto first_snapshot = [](EventStream& s) {
    EXPECT_TRUE(s.wait_for("snapshot", [](const auto& e) { return !e.empty(); }));
    const auto all = s.events("snapshot");
    return all.empty() ? json() : all.front();
  };
  // One watcher alone gets at most the per-update number of points.
  auto alone = std::make_unique<EventStream>(port);
  const json sample = first_snapshot(*alone);
  EXPECT_TRUE(sample["points_sampled"].get<bool>());
  EXPECT_EQ(sample["points"].size(), 1000u);  // the most one message carries
  alone.reset();
  // Asked for everything, it gets everything.
  EventStream whole(port, "/api/events?full=1");
  const json all = first_snapshot(whole);
  EXPECT_FALSE(all["points_sampled"].get<bool>());
  ASSERT_EQ(all["points"].size(), 3000u);
  // With 13 watchers, each new one gets a share of a fixed total, the run's
  // last point included.
  std::vector<std::unique_ptr<EventStream>> crowd;
  json last;
  for (int i = 0; i < 12; ++i) {
    crowd.push_back(std::make_unique<EventStream>(port));
    last = first_snapshot(*crowd.back());
  }
  EXPECT_TRUE(last["points_sampled"].get<bool>());
  EXPECT_LE(last["points"].size(), 5000u / 13u);
  EXPECT_GE(last["points"].size(), 100u);
  EXPECT_EQ(last["points"].back(), all["points"].back());
  EXPECT_EQ(last["status"]["told"], 3000);
  crowd.clear();
  watch.signal(SIGTERM);
  EXPECT_EQ(watch.wait(), 0);
}

TEST_F(LiveView, WaitsForAHistoryThatDoesNotExistYet) {
  const auto finished = finished_run("finished.jsonl");
  const fs::path history = dir_ / "later.jsonl";
  Taskmaster watch(dir_, {"watch", history.string(), "--port", "0"});
  const int port = port_of(watch.url());
  ASSERT_GT(port, 0);
  httplib::Client client("127.0.0.1", port);
  EXPECT_EQ(get_json(client, "/api/snapshot")["status"]["found"], false);
  fs::copy_file(finished, history);
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (get_json(client, "/api/snapshot")["status"]["told"] != 20 &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(get_json(client, "/api/snapshot")["status"]["told"], 20);
}

TEST_F(LiveView, ManyWatchersAtOnce) {
  const auto history = finished_run();
  Taskmaster watch(dir_, {"watch", history.string(), "--port", "0"});
  const int port = port_of(watch.url());
  ASSERT_GT(port, 0);
  std::vector<std::unique_ptr<EventStream>> streams;
  for (int i = 0; i < 60; ++i) streams.push_back(std::make_unique<EventStream>(port));
  for (auto& s : streams) {
    ASSERT_TRUE(s->wait_for("snapshot", [](const auto& e) { return !e.empty(); }));
    EXPECT_EQ(s->events("snapshot")[0]["status"]["told"], 20);
  }
  // The page's other requests are still answered meanwhile.
  httplib::Client client("127.0.0.1", port);
  EXPECT_EQ(get_json(client, "/api/snapshot")["status"]["told"], 20);
  streams.clear();
  watch.signal(SIGTERM);
  EXPECT_EQ(watch.wait(), 0);
}

TEST_F(LiveView, TheRunsOwnServerStopsItOnlyWithTheToken) {
  const fs::path history = dir_ / "run.jsonl";
  Taskmaster run(dir_, long_live_run(history));
  const std::string url = run.url();
  ASSERT_FALSE(url.empty()) << run.stderr_text();
  const int port = port_of(url);
  httplib::Client client("127.0.0.1", port);
  EXPECT_EQ(get_json(client, "/api/server")["controls"], json::array({"stop", "workers"}));
  auto no_token = client.Post("/api/stop", "", "text/plain");
  ASSERT_TRUE(no_token);
  EXPECT_EQ(no_token->status, 403);
  httplib::Headers wrong{{"X-Taskmaster-Token", std::string(32, '0')}};
  auto wrong_token = client.Post("/api/stop", wrong, "", "text/plain");
  ASSERT_TRUE(wrong_token);
  EXPECT_EQ(wrong_token->status, 403);
  // The run goes on, and the page sees it grow.
  const auto told = [&] { return get_json(client, "/api/snapshot")["status"].value("told", 0); };
  const auto until = std::chrono::steady_clock::now() + 20s;
  while (told() < 5 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(50ms);
  EXPECT_GE(told(), 5);
  httplib::Headers right{{"X-Taskmaster-Token", token_of(url)}};
  auto stop = client.Post("/api/stop", right, "", "text/plain");
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->status, 200);
  EXPECT_EQ(run.wait(), 0) << run.stderr_text();
  EXPECT_NE(taskmaster::test_support::read_file(history).find("stopped from the live view"),
            std::string::npos);
  // The server went with the run.
  httplib::Client after("127.0.0.1", port);
  EXPECT_FALSE(after.Get("/api/server"));
}

/// The capacities a history records, in order.
std::vector<int> recorded_capacities(const fs::path& history) {
  std::vector<int> out;
  std::istringstream lines(taskmaster::test_support::read_file(history));
  for (std::string line; std::getline(lines, line);) {
    const auto j = json::parse(line, nullptr, false);
    if (j.is_object() && j.value("e", "") == "capacity") out.push_back(j.value("n", -1));
  }
  return out;
}

TEST_F(LiveView, TheRunsWorkersChangeFromThePageWithTheToken) {
  const fs::path history = dir_ / "run.jsonl";
  Taskmaster run(dir_, long_live_run(history));
  const std::string url = run.url();
  ASSERT_FALSE(url.empty()) << run.stderr_text();
  httplib::Client client("127.0.0.1", port_of(url));
  const std::string body = R"({"change": 2})";
  auto no_token = client.Post("/api/workers", body, "application/json");
  ASSERT_TRUE(no_token);
  EXPECT_EQ(no_token->status, 403);
  httplib::Headers right{{"X-Taskmaster-Token", token_of(url)}};
  for (const std::string& bad : std::vector<std::string>{
           R"({"change": 0})", R"({"change": "2"})", R"({"change": 1.5})", R"({"change": 100000})",
           R"({"more": 1})", "[", "", std::string(5000, '[')}) {
    auto r = client.Post("/api/workers", right, bad, "application/json");
    ASSERT_TRUE(r) << bad;
    EXPECT_EQ(r->status, 400) << bad;
  }
  // The history records the capacities the loop runs with, as they change.
  const auto recorded = [&](int capacity) {
    const auto until = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < until) {
      const auto c = recorded_capacities(history);
      if (!c.empty() && c.back() == capacity) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  };
  ASSERT_TRUE(recorded(2));
  // A master that is not there (yet, or any more) is said so: 409.
  const auto change = [&](const std::string& text) {
    const auto until = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < until) {
      auto r = client.Post("/api/workers", right, text, "application/json");
      if (!r) return json();
      if (r->status == 200) return json::parse(r->body);
      EXPECT_EQ(r->status, 409) << r->body;
      std::this_thread::sleep_for(20ms);
    }
    return json();
  };
  EXPECT_EQ(change(body)["workers"], 4);
  EXPECT_TRUE(recorded(4));
  // Releasing more than there are leaves one: a run without workers would wait for ever.
  EXPECT_EQ(change(R"({"change": -10})")["workers"], 1);
  EXPECT_TRUE(recorded(1));
  const auto told = [&] { return get_json(client, "/api/snapshot")["status"].value("told", 0); };
  const int before = told();
  const auto until = std::chrono::steady_clock::now() + 20s;
  while (told() < before + 3 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(50ms);
  EXPECT_GE(told(), before + 3) << "the run goes on with one worker";
  auto stop = client.Post("/api/stop", right, "", "text/plain");
  ASSERT_TRUE(stop);
  EXPECT_EQ(run.wait(), 0) << run.stderr_text();
}

TEST_F(LiveView, AWatchOnlyServerChangesNothing) {
  const auto history = finished_run();
  Taskmaster watch(dir_, {"watch", history.string(), "--port", "0"});
  const std::string url = watch.url();
  httplib::Client client("127.0.0.1", port_of(url));
  EXPECT_EQ(get_json(client, "/api/server")["controls"], json::array());
  httplib::Headers token{{"X-Taskmaster-Token", token_of(url)}};
  for (const char* path : {"/api/stop", "/api/workers"}) {
    auto r = client.Post(path, token, R"({"change": 1})", "application/json");
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
  }
  watch.signal(SIGTERM);
  EXPECT_EQ(watch.wait(), 0);
}

TEST_F(LiveView, AnExplicitPortInUseIsAnError) {
  const auto history = finished_run();
  Taskmaster first(dir_, {"watch", history.string(), "--port", "0"});
  const int port = port_of(first.url());
  ASSERT_GT(port, 0);
  fs::create_directories(dir_ / "second");
  Taskmaster second(dir_ / "second", {"watch", history.string(), "--port", std::to_string(port)});
  EXPECT_EQ(second.wait(), 1);
}

}  // namespace
