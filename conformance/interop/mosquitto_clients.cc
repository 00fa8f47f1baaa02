#include "conformance/interop/mosquitto_clients.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <sstream>
#include <thread>

#include <unistd.h>

#include "fmt/format.h"

namespace simq::interop {

using namespace std::chrono_literals;

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

std::vector<std::string> MessageLines(const std::string& output) {
  std::vector<std::string> lines;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("MSG ", 0) == 0) lines.push_back(line);
  }
  return lines;
}

std::string UniqueName(const std::string& what) {
  static std::atomic<int> n{0};
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string test = info != nullptr ? info->name() : "test";
  std::replace(test.begin(), test.end(), '/', '_');
  return fmt::format("{}-{}-{}-{}", test, what, ::getpid(), n++);
}

::testing::AssertionResult MosquittoClientsInstalled() {
  for (const char* tool : {kMosquittoPub, kMosquittoSub}) {
    if (::access(tool, X_OK) != 0) {
      return ::testing::AssertionFailure()
             << tool << " is missing: Debian package 'mosquitto-clients'; tools/setup installs it";
    }
  }
  return ::testing::AssertionSuccess();
}

CliClient::CliClient(std::vector<std::string> argv, const std::string& name)
    : process_(std::move(argv),
               fmt::format("{}/{}.log", testing::TestTempDir(), UniqueName(name))) {}

bool CliClient::WaitSubscribed() {
  return WaitFor([&] { return Output().find("received SUBACK") != std::string::npos; }, kArrive);
}

bool CliClient::WaitMessages(size_t n) {
  return WaitFor([&] { return Messages().size() >= n; }, kArrive);
}

std::vector<std::string> MosquittoClients::Common(const char* tool,
                                                  const std::string& version) const {
  return {"stdbuf", "-oL", tool,        "-d", "-V",
          version,  "-h",  "127.0.0.1", "-p", std::to_string(port_)};
}

std::string MosquittoClients::Pub(const std::string& version,
                                  const std::vector<std::string>& args) const {
  std::vector<std::string> argv = Common(kMosquittoPub, version);
  argv.insert(argv.end(), args.begin(), args.end());
  testing::Process p(argv, fmt::format("{}/{}.log", testing::TestTempDir(), UniqueName("pub")));
  EXPECT_TRUE(p.ok()) << p.error();
  std::optional<int> status = p.Wait(kArrive);
  EXPECT_EQ(status, 0) << "mosquitto_pub -p " << port_ << " "
                       << fmt::format("{}", fmt::join(args, " ")) << ":\n"
                       << p.Log();
  return p.Log();
}

std::unique_ptr<CliClient> MosquittoClients::Sub(const std::string& version,
                                                 const std::vector<std::string>& args,
                                                 const std::string& format) const {
  std::vector<std::string> argv = Common(kMosquittoSub, version);
  argv.insert(argv.end(), {"-F", format});
  argv.insert(argv.end(), args.begin(), args.end());
  auto client = std::make_unique<CliClient>(argv, "sub");
  EXPECT_TRUE(client->ok());
  return client;
}

std::unique_ptr<CliClient> MosquittoClients::Subscribed(const std::string& version,
                                                        const std::vector<std::string>& args,
                                                        const std::string& format) const {
  std::unique_ptr<CliClient> client = Sub(version, args, format);
  EXPECT_TRUE(client->WaitSubscribed()) << client->Output();
  return client;
}

}  // namespace simq::interop
