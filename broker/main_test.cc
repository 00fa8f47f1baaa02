// The //broker binary as an operator runs it: configuration selection and errors, command-line
// overrides, graceful shutdown, per-client debug logging.

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <signal.h>

#include "fmt/format.h"

#include "broker/client/raw_connection.h"
#include "broker/testing/coro.h"
#include "broker/testing/ports.h"
#include "broker/testing/process.h"

namespace simq {
namespace {

using namespace std::chrono_literals;
using testing::Process;
using testing::TestTempDir;
namespace asio = boost::asio;

constexpr char kBroker[] = "broker/broker";

std::string WriteConfig(const std::string& name, const std::string& text) {
  std::string path = TestTempDir() + "/" + name;
  testing::WriteFile(path, text);
  return path;
}

std::string ListenerConfig(uint16_t port) {
  return fmt::format("[[listeners]]\ntype = \"tcp\"\nbind = \"127.0.0.1\"\nport = {}\n", port);
}

std::unique_ptr<Process> StartBroker(std::vector<std::string> args, const std::string& log,
                                     std::vector<std::string> env = {}) {
  args.insert(args.begin(), kBroker);
  return std::make_unique<Process>(args, TestTempDir() + "/" + log, env);
}

TEST(MainTest, BadConfigurationExitsWithStatus2NamingFileLineAndKey) {
  const uint16_t port = testing::PickFreePort();
  const std::string path =
      WriteConfig("bad.toml", ListenerConfig(port) + "[mqtt]\nrecieve_maximum = 5\n");
  auto broker = StartBroker({"--config", path}, "bad.log");
  EXPECT_EQ(broker->Wait(30s), 2);
  EXPECT_NE(broker->Log().find(path + ":6: mqtt.recieve_maximum: unknown key"), std::string::npos)
      << broker->Log();
  // Nothing was opened before the error.
  EXPECT_FALSE(testing::WaitForPort(port, 100ms));
}

TEST(MainTest, BadValueAndBadFlagsExitWithStatus2) {
  const std::string path = WriteConfig("range.toml", "[mqtt]\nmax_qos = 3\n");
  auto broker = StartBroker({"--config", path}, "range.log");
  EXPECT_EQ(broker->Wait(30s), 2);
  EXPECT_NE(broker->Log().find(path + ":2: mqtt.max_qos: must be between 0 and 2"),
            std::string::npos)
      << broker->Log();

  auto flag = StartBroker({"--log-level", "loud"}, "flag.log");
  EXPECT_EQ(flag->Wait(30s), 2);
  EXPECT_NE(flag->Log().find("--log-level"), std::string::npos) << flag->Log();

  auto missing = StartBroker({"--config", TestTempDir() + "/nope.toml"}, "missing.log");
  EXPECT_EQ(missing->Wait(30s), 2);
  EXPECT_NE(missing->Log().find("nope.toml"), std::string::npos) << missing->Log();
}

TEST(MainTest, SiCfgPathSelectsTheFileAndConfigFlagWins) {
  const uint16_t env_port = testing::PickFreePort();
  const std::string env_path = WriteConfig("env.toml", ListenerConfig(env_port));
  auto by_env = StartBroker({}, "env.log", {"SI_CFG_PATH=" + env_path});
  EXPECT_TRUE(testing::WaitForPort(env_port, 30s)) << by_env->Log();
  by_env->Kill(SIGTERM);
  EXPECT_EQ(by_env->Wait(10s), 0);

  const uint16_t flag_port = testing::PickFreePort();
  const std::string flag_path = WriteConfig("flag.toml", ListenerConfig(flag_port));
  auto by_flag = StartBroker({"--config", flag_path}, "flagwins.log", {"SI_CFG_PATH=" + env_path});
  EXPECT_TRUE(testing::WaitForPort(flag_port, 30s)) << by_flag->Log();
  EXPECT_FALSE(testing::WaitForPort(env_port, 100ms));
}

TEST(MainTest, ListenFlagsReplaceTheFilesListeners) {
  const uint16_t file_port = testing::PickFreePort();
  const uint16_t a = testing::PickFreePort();
  const uint16_t b = testing::PickFreePort();
  const std::string path = WriteConfig("listen.toml", ListenerConfig(file_port));
  auto broker = StartBroker({"--config", path, "--listen", fmt::format("tcp://127.0.0.1:{}", a),
                             "--listen", fmt::format("tcp://127.0.0.1:{}", b)},
                            "listen.log");
  EXPECT_TRUE(testing::WaitForPort(a, 30s)) << broker->Log();
  EXPECT_TRUE(testing::WaitForPort(b, 5s)) << broker->Log();
  EXPECT_FALSE(testing::WaitForPort(file_port, 100ms));
}

TEST(MainTest, PortInUseExitsWithAnError) {
  const uint16_t port = testing::PickFreePort();
  const std::string listen = fmt::format("tcp://127.0.0.1:{}", port);
  // Separate data directories: the port, not the store, is what they fight over here.
  auto first = StartBroker({"--config", WriteConfig("a.toml", ""), "--listen", listen, "--data-dir",
                            TestTempDir() + "/data-a"},
                           "first.log");
  ASSERT_TRUE(testing::WaitForPort(port, 30s)) << first->Log();
  auto second = StartBroker({"--config", WriteConfig("b.toml", ""), "--listen", listen,
                             "--data-dir", TestTempDir() + "/data-b"},
                            "second.log");
  EXPECT_EQ(second->Wait(30s), 1);
  EXPECT_NE(second->Log().find("Address already in use"), std::string::npos) << second->Log();
}

TEST(MainTest, ACorruptDataDirectoryIsRefusedNamingIt) {
  const std::string dir = TestTempDir() + "/foreign-data";
  std::filesystem::create_directories(dir);
  testing::WriteFile(dir + "/notes.txt", "not a store");
  auto broker = StartBroker({"--config", WriteConfig("c.toml", ""), "--data-dir", dir, "--listen",
                             fmt::format("tcp://127.0.0.1:{}", testing::PickFreePort())},
                            "corrupt.log");
  EXPECT_EQ(broker->Wait(30s), 1);
  EXPECT_NE(broker->Log().find("data directory " + dir), std::string::npos) << broker->Log();
  EXPECT_TRUE(std::filesystem::exists(dir + "/notes.txt"));  // nothing wiped
}

TEST(MainTest, SigtermDisconnectsMqtt5ClientsWithServerShuttingDownAndExitsZero) {
  const uint16_t port = testing::PickFreePort();
  const std::string path =
      WriteConfig("term.toml", ListenerConfig(port) + "[log]\ndebug_client_ids = [\"dbg\"]\n");
  auto broker = StartBroker({"--config", path}, "term.log");
  ASSERT_TRUE(testing::WaitForPort(port, 30s)) << broker->Log();
  testing::RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    client::Endpoint e;
    e.port = port;
    auto dbg = co_await client::RawConnection::Connect(ex, e, protocol::ProtocolVersion::kMqtt5);
    auto other = co_await client::RawConnection::Connect(ex, e, protocol::ProtocolVersion::kMqtt5);
    EXPECT_TRUE(dbg.ok() && other.ok());
    if (!dbg.ok() || !other.ok()) co_return;
    protocol::ConnectPacket c;
    c.client_id = "dbg";
    (*dbg)->Send(c);
    c.client_id = "other";
    (*other)->Send(c);
    for (auto* conn : {dbg->get(), other->get()}) {
      auto connack = co_await conn->Receive(10s);
      EXPECT_TRUE(connack.ok() && connack->type() == protocol::PacketType::kConnack);
    }
    broker->Signal(SIGTERM);
    for (auto* conn : {dbg->get(), other->get()}) {
      auto p = co_await conn->Receive(10s);
      EXPECT_TRUE(p.ok()) << p.status();
      const auto* d = p.ok() ? p->get<protocol::DisconnectPacket>() : nullptr;
      EXPECT_NE(d, nullptr);
      if (d) EXPECT_EQ(d->reason_code, protocol::ReasonCode::kServerShuttingDown);
    }
  });
  EXPECT_EQ(broker->Wait(10s), 0) << broker->Log();
  // Connection-level debug logging for the listed client only.
  const std::string log = broker->Log();
  EXPECT_NE(log.find("client dbg"), std::string::npos) << log;
  EXPECT_EQ(log.find("client other"), std::string::npos) << log;
}

}  // namespace
}  // namespace simq
