#include "conformance/runner.h"

#include <exception>
#include <optional>
#include <random>

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/experimental/awaitable_operators.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "fmt/format.h"

namespace simq::conformance {
namespace {

struct Outcome {
  enum class Kind { kPass, kFail, kSkip } kind = Kind::kPass;
  std::string message;
};

std::string RunTag() {
  static constexpr char kChars[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::random_device rd;
  std::string tag;
  for (int i = 0; i < 4; ++i) tag += kChars[rd() % 36];
  return tag;
}

asio::awaitable<void> Probe(const Options& options, const std::string& run_tag,
                            Capabilities* caps) {
  absl::StatusOr<std::unique_ptr<Conn>> c =
      co_await Conn::Open(co_await asio::this_coro::executor, options.endpoint, kV5, options.wait);
  if (!c.ok()) co_return;
  ConnectSpec spec;
  spec.client_id = "q" + run_tag + "probe";
  (*c)->SendRaw(EncodeConnect(spec));
  Event e = co_await (*c)->Await([](const Event& ev) { return IsPacket(ev, PacketType::kConnack); },
                                 options.wait);
  const auto* connack = e.get<protocol::ConnackPacket>();
  if (connack == nullptr || connack->reason_code != ReasonCode::kSuccess) co_return;
  const protocol::Properties& p = connack->properties;
  caps->v5 = true;
  caps->max_qos = p.maximum_qos.value_or(2);
  caps->retain_available = p.retain_available.value_or(1) != 0;
  caps->wildcard_subscriptions = p.wildcard_subscription_available.value_or(1) != 0;
  caps->subscription_identifiers = p.subscription_identifier_available.value_or(1) != 0;
  caps->shared_subscriptions = p.shared_subscription_available.value_or(1) != 0;
  caps->receive_maximum = p.receive_maximum.value_or(65535);
  caps->max_packet_size = p.maximum_packet_size;
  caps->topic_alias_maximum = p.topic_alias_maximum.value_or(0);
  caps->server_keep_alive = p.server_keep_alive;
  (*c)->Send(protocol::DisconnectPacket{});
  std::vector<Event> ignored;
  co_await (*c)->WaitClosed(Ms(500), &ignored);
}

asio::awaitable<Outcome> RunOne(const TestCase& tc, T& t) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(t.ex(), t.opt().test_timeout);
  try {
    auto r = co_await (tc.fn(t) || timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (r.index() == 1) {
      t.Fail(fmt::format("the test did not finish within {} ms", t.opt().test_timeout.count()));
    }
  } catch (const std::exception& e) {
    t.Fail(std::string("exception: ") + e.what());
  }
  Outcome o;
  o.message = t.message();
  o.kind = t.failed()    ? Outcome::Kind::kFail
           : t.skipped() ? Outcome::Kind::kSkip
                         : Outcome::Kind::kPass;
  co_return o;
}

}  // namespace

RunResult RunTests(const std::vector<const TestCase*>& tests, const Options& options, int jobs,
                   std::ostream& out) {
  asio::io_context io;
  const std::string run_tag = RunTag();
  Capabilities caps;
  asio::co_spawn(io, Probe(options, run_tag, &caps), asio::detached);
  io.run();
  io.restart();
  out << "# server " << options.endpoint.host << ":" << options.endpoint.port << ": "
      << caps.Describe() << "\n";
  out << "# run " << run_tag << ": " << tests.size() << " tests, " << jobs << " at a time\n";
  out.flush();

  std::vector<std::optional<Outcome>> outcomes(tests.size());
  size_t next = 0;
  size_t printed = 0;
  RunResult result;
  auto print_ready = [&] {
    while (printed < tests.size() && outcomes[printed]) {
      const Outcome& o = *outcomes[printed];
      const std::string& name = tests[printed]->name;
      switch (o.kind) {
        case Outcome::Kind::kPass:
          ++result.passed;
          out << "PASS " << name << "\n";
          break;
        case Outcome::Kind::kFail:
          ++result.failed;
          out << "FAIL " << name << ": " << o.message << "\n";
          break;
        case Outcome::Kind::kSkip:
          ++result.skipped;
          out << "SKIP " << name << ": " << o.message << "\n";
          break;
      }
      ++printed;
    }
    out.flush();
  };
  auto worker = [&]() -> asio::awaitable<void> {
    while (next < tests.size()) {
      const size_t i = next++;
      T t(io.get_executor(), options, caps, tests[i]->version, tests[i]->name, run_tag,
          static_cast<int>(i));
      outcomes[i] = co_await RunOne(*tests[i], t);
      print_ready();
    }
  };
  for (int j = 0; j < jobs; ++j) asio::co_spawn(io, worker(), asio::detached);
  io.run();
  print_ready();
  out << result.passed << " passed, " << result.failed << " failed, " << result.skipped
      << " skipped\n";
  out.flush();
  return result;
}

}  // namespace simq::conformance
