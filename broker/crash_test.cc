// kill -9 in the middle of traffic, again and again (DESIGN §5, docs/durability.md).
//
// The real //broker binary (default durability: sync) serves persistent subscribers at QoS 1
// and QoS 2 — some connected, some offline — and publishers at QoS 1 and 2, a client with a
// Will, and retained messages. At a random moment the broker is killed with SIGKILL and
// restarted on the same data directory. After every cycle:
//   - every QoS 1 message whose PUBACK the publisher got arrives at least once,
//   - every QoS 2 message whose PUBCOMP the publisher got arrives exactly once,
//   - the retained messages acknowledged are there,
//   - the Will of the client connected at the kill is published.
// SIMQ_CRASH_CYCLES sets the number of kills (3 here; 20 in crash_loop_test, the slow tier).

#include <cstdlib>
#include <map>
#include <random>
#include <set>

#include <gtest/gtest.h>
#include <signal.h>

#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/steady_timer.hpp"
#include "fmt/format.h"

#include "broker/client/client.h"
#include "broker/testing/coro.h"
#include "broker/testing/ports.h"
#include "broker/testing/process.h"

namespace simq {
namespace {

using namespace std::chrono_literals;
using client::Client;
using client::ConnectOptions;
using protocol::QoS;
using protocol::ReasonCode;
namespace asio = boost::asio;

struct Ledger {
  std::set<std::string> acked_q1;
  std::set<std::string> acked_q2;
  std::map<std::string, std::string> acked_retained;  // topic → payload
  std::set<std::string> wills_expected;
  // Per subscriber: payload → times received.
  std::map<std::string, std::map<std::string, int>> received;
};

class Broker {
 public:
  Broker(uint16_t port, std::string data_dir) : port_(port), data_dir_(std::move(data_dir)) {}
  void Start(int cycle) {
    const std::string config = testing::TestTempDir() + "/crash.toml";
    // Defaults (rocksdb store, sync durability), but offline queues without a length limit:
    // the offline subscribers must keep everything, not what the drop_new policy allows.
    testing::WriteFile(config, "[queues]\nmax_queued_messages = 0\nmax_queued_bytes = 0\n");
    process_ = std::make_unique<testing::Process>(
        std::vector<std::string>{"broker/broker", "--config", config, "--data-dir", data_dir_,
                                 "--listen", fmt::format("tcp://127.0.0.1:{}", port_)},
        fmt::format("{}/broker-{}.log", testing::TestTempDir(), cycle));
    ASSERT_TRUE(testing::WaitForPort(port_, 60s)) << process_->Log();
  }
  void Kill() {
    process_->Signal(SIGKILL);
    process_->Wait(30s);
  }
  std::string Log() { return process_ ? process_->Log() : ""; }

 private:
  uint16_t port_;
  std::string data_dir_;
  std::unique_ptr<testing::Process> process_;
};

ConnectOptions Options(uint16_t port, std::string id, bool persistent) {
  ConnectOptions o;
  o.endpoint.port = port;
  o.client_id = std::move(id);
  o.keep_alive_seconds = 0;
  o.clean_start = !persistent;
  if (persistent) {
    protocol::Properties p;
    p.session_expiry_interval = 3600;
    o.properties = protocol::OwnedProperties(p);
  }
  return o;
}

client::Message Msg(std::string topic, std::string payload, QoS qos, bool retain = false) {
  client::Message m;
  m.topic = std::move(topic);
  m.payload = std::move(payload);
  m.qos = qos;
  m.retain = retain;
  return m;
}

std::vector<client::Subscription> Sub(std::string filter, QoS qos) {
  client::Subscription s;
  s.filter = std::move(filter);
  s.options.max_qos = qos;
  return std::vector<client::Subscription>(1, s);
}

// Runs `body` on `io` (which outlives it, with the clients on it) for at most `timeout`.
void RunOn(asio::io_context& io, std::function<asio::awaitable<void>(asio::any_io_executor)> body,
           std::chrono::milliseconds timeout) {
  bool done = false;
  asio::co_spawn(io, body(io.get_executor()), [&](std::exception_ptr e) {
    done = true;
    if (e) ADD_FAILURE() << "coroutine threw";
  });
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  io.restart();
  while (!done && std::chrono::steady_clock::now() < deadline) io.run_one_for(100ms);
  ASSERT_TRUE(done) << "did not finish within " << timeout.count() << " ms";
}

// Publishes until the connection goes or `stop`, recording what was acknowledged.
asio::awaitable<void> PublishLoop(std::shared_ptr<Client> c, std::string prefix, QoS qos,
                                  std::shared_ptr<const bool> stop, Ledger* ledger) {
  for (int n = 0; !*stop; ++n) {
    std::string payload = fmt::format("{}-{}", prefix, n);
    std::string topic = qos == QoS::kAtLeastOnce ? "crash/q1/t" : "crash/q2/t";
    auto r = co_await c->Publish(Msg(topic, payload, qos));
    if (!r.ok()) co_return;  // the broker died: not acknowledged
    if (r->reason_code != ReasonCode::kSuccess &&
        r->reason_code != ReasonCode::kNoMatchingSubscribers) {
      continue;
    }
    (qos == QoS::kAtLeastOnce ? ledger->acked_q1 : ledger->acked_q2).insert(payload);
  }
}

asio::awaitable<bool> Connect(Client& c, ConnectOptions o) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto r = co_await c.Connect(o);
    if (r.ok() && r->reason_code == ReasonCode::kSuccess) co_return true;
    co_await asio::steady_timer(co_await asio::this_coro::executor, 50ms)
        .async_wait(asio::use_awaitable);
  }
  co_return false;
}

bool AllReceived(const Ledger& l, const std::string& name, const std::set<std::string>& wanted) {
  auto it = l.received.find(name);
  if (it == l.received.end()) return wanted.empty();
  for (const std::string& p : wanted) {
    if (!it->second.contains(p)) return false;
  }
  return true;
}

TEST(CrashTest, KillDashNineLosesNothingAcknowledged) {
  const char* env = std::getenv("SIMQ_CRASH_CYCLES");
  const int cycles = env ? std::atoi(env) : 3;
  const uint16_t port = testing::PickFreePort();
  Broker broker(port, testing::TestTempDir() + "/crash-data");
  Ledger ledger;
  std::mt19937 rng(20261125);

  // The subscribers keep their client-side session state (the QoS 2 packet ids awaiting
  // PUBREL, [MQTT-4.3.3]) across reconnects, as exactly-once requires of a client: one Client
  // object each for the whole test. S1 (QoS 1) and S2 (QoS 2) stay connected while messages
  // flow; S3 (QoS 1) and S4 (QoS 2) are offline.
  asio::io_context io;
  const std::vector<std::string> names = {"s1", "s2", "s3", "s4"};
  std::map<std::string, std::shared_ptr<Client>> subs;
  for (const std::string& name : names) {
    subs[name] = Client::Create(io.get_executor());
    subs[name]->set_message_handler([&ledger, name](const protocol::PublishPacket& p) {
      ++ledger.received[name][std::string(p.payload)];
    });
  }

  broker.Start(0);
  for (int cycle = 0; cycle < cycles; ++cycle) {
    RunOn(
        io,
        [&](asio::any_io_executor ex) -> asio::awaitable<void> {
          for (const std::string& name : names) {
            EXPECT_TRUE(co_await Connect(*subs[name], Options(port, name, true))) << name;
          }
          if (cycle == 0) {
            auto s = [&](const char* n) { return subs[n]; };
            EXPECT_TRUE((co_await s("s1")->Subscribe(Sub("crash/q1/#", QoS::kAtLeastOnce))).ok());
            EXPECT_TRUE(
                (co_await s("s1")->Subscribe(Sub("crash/wills/#", QoS::kAtLeastOnce))).ok());
            EXPECT_TRUE((co_await s("s2")->Subscribe(Sub("crash/q2/#", QoS::kExactlyOnce))).ok());
            EXPECT_TRUE((co_await s("s3")->Subscribe(Sub("crash/q1/#", QoS::kAtLeastOnce))).ok());
            EXPECT_TRUE((co_await s("s4")->Subscribe(Sub("crash/q2/#", QoS::kExactlyOnce))).ok());
          }
          EXPECT_TRUE((co_await subs["s3"]->Disconnect()).ok());
          EXPECT_TRUE((co_await subs["s4"]->Disconnect()).ok());

          // A client with a Will, connected when the broker dies.
          auto dying = Client::Create(ex);
          ConnectOptions wo = Options(port, "will-client", true);
          wo.will = Msg("crash/wills/w", fmt::format("will-{}", cycle), QoS::kAtLeastOnce);
          EXPECT_TRUE(co_await Connect(*dying, wo));
          ledger.wills_expected.insert(fmt::format("will-{}", cycle));

          auto retainer = Client::Create(ex);
          EXPECT_TRUE(co_await Connect(*retainer, Options(port, "retainer", false)));
          const std::string rtopic = fmt::format("crash/retained/{}", cycle % 3);
          const std::string rpayload = fmt::format("retained-{}", cycle);
          auto r = co_await retainer->Publish(Msg(rtopic, rpayload, QoS::kAtLeastOnce, true));
          if (r.ok()) ledger.acked_retained[rtopic] = rpayload;

          // Publishers, three of each QoS, until the kill.
          auto stop = std::make_shared<bool>(false);
          for (int i = 0; i < 6; ++i) {
            auto p = Client::Create(ex);
            EXPECT_TRUE(co_await Connect(*p, Options(port, fmt::format("p{}", i), false)));
            asio::co_spawn(
                ex,
                PublishLoop(p, fmt::format("c{}-p{}", cycle, i),
                            i < 3 ? QoS::kAtLeastOnce : QoS::kExactlyOnce, stop, &ledger),
                asio::detached);
          }
          std::uniform_int_distribution<int> when(100, 700);
          co_await asio::steady_timer(ex, std::chrono::milliseconds(when(rng)))
              .async_wait(asio::use_awaitable);
          broker.Kill();  // in the middle of everything
          *stop = true;
          // Let every client notice the connection is gone.
          co_await asio::steady_timer(ex, 200ms).async_wait(asio::use_awaitable);
        },
        120s);
    broker.Start(cycle + 1);

    // Everything acknowledged so far arrives: S1/S2 reconnect, S3/S4 come online and drain.
    RunOn(
        io,
        [&](asio::any_io_executor ex) -> asio::awaitable<void> {
          for (const std::string& name : names) {
            auto r = co_await subs[name]->Connect(Options(port, name, true));
            EXPECT_TRUE(r.ok() && r->session_present) << name << ": " << r.status();
          }
          const auto deadline = std::chrono::steady_clock::now() + 30s;
          while (std::chrono::steady_clock::now() < deadline) {
            if (AllReceived(ledger, "s1", ledger.acked_q1) &&
                AllReceived(ledger, "s3", ledger.acked_q1) &&
                AllReceived(ledger, "s2", ledger.acked_q2) &&
                AllReceived(ledger, "s4", ledger.acked_q2) &&
                AllReceived(ledger, "s1", ledger.wills_expected)) {
              break;
            }
            co_await asio::steady_timer(ex, 20ms).async_wait(asio::use_awaitable);
          }
          // A moment for duplicates that would follow, then leave cleanly.
          co_await asio::steady_timer(ex, 100ms).async_wait(asio::use_awaitable);
          for (const std::string& name : names) co_await subs[name]->Disconnect();
        },
        60s);

    SCOPED_TRACE(fmt::format("after kill {} ({} QoS 1 and {} QoS 2 messages acknowledged)",
                             cycle + 1, ledger.acked_q1.size(), ledger.acked_q2.size()));
    for (const char* name : {"s1", "s3"}) {
      for (const std::string& p : ledger.acked_q1) {
        EXPECT_GE(ledger.received[name][p], 1) << name << " lost acknowledged QoS 1 " << p;
      }
    }
    for (const char* name : {"s2", "s4"}) {
      for (const std::string& p : ledger.acked_q2) {
        EXPECT_EQ(ledger.received[name][p], 1) << name << ": acknowledged QoS 2 " << p;
      }
      for (const auto& [p, n] : ledger.received[name]) {
        EXPECT_LE(n, 1) << name << " got QoS 2 " << p << " " << n << " times";
      }
    }
    for (const std::string& will : ledger.wills_expected) {
      EXPECT_GE(ledger.received["s1"][will], 1) << "Will " << will << " not published";
    }
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "broker log:\n" << broker.Log();
      break;
    }
  }

  // Retained messages acknowledged are there.
  RunOn(
      io,
      [&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto c = Client::Create(ex);
        EXPECT_TRUE(co_await Connect(*c, Options(port, "retained-check", false)));
        EXPECT_TRUE((co_await c->Subscribe(Sub("crash/retained/#", QoS::kAtLeastOnce))).ok());
        std::map<std::string, std::string> got;
        for (size_t i = 0; i < ledger.acked_retained.size(); ++i) {
          auto m = co_await c->Receive(10s);
          EXPECT_TRUE(m.ok()) << m.status();
          if (!m.ok()) break;
          got[m->topic] = m->payload;
        }
        EXPECT_EQ(got, ledger.acked_retained);
      },
      60s);
  EXPECT_GT(ledger.acked_q1.size(), 0u);
  EXPECT_GT(ledger.acked_q2.size(), 0u);
  fmt::print("{} kills: {} QoS 1 and {} QoS 2 acknowledged messages, {} wills, all delivered\n",
             cycles, ledger.acked_q1.size(), ledger.acked_q2.size(), ledger.wills_expected.size());
  broker.Kill();
}

}  // namespace
}  // namespace simq
