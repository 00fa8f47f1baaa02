// Runs one interop script — a Python (paho-mqtt) or Node.js (MQTT.js) test program — against a
// freshly started simq broker. The BUILD file says which, through the environment:
//
//   SIMQ_INTEROP_RUNTIME  "python": <cache>/python/<dir>/bin/python, the venv that
//                         third_party/python/fetch builds from <dir>/requirements.txt;
//                         "node": Debian's /usr/bin/node, with the packages that
//                         third_party/node/fetch installs from <dir>/package-lock.json
//                         (SIMQ_NODE_MODULES=<cache>/node/<dir>/node_modules)
//   SIMQ_INTEROP_SCRIPT   the script's runfiles path (conformance/interop/<dir>/...)
//   SIMQ_INTEROP_ARGS     its arguments, space-separated, where
//                           {broker}  becomes host:port of the broker's plain TCP listener;
//                           {ws}      host:port of a WebSocket listener (type ws, path /mqtt),
//                                     which the broker then gets;
//                           {wss}     host:port of a WebSocket-over-TLS listener (type wss);
//                           {ca}      the PEM file of the CA that signed the wss listener's
//                                     certificate (for 127.0.0.1 and localhost).
//                         The CA and the server certificate are made for this run with the
//                         openssl command line (broker/testing/certs.h) in the test's temp dir.
//
// The script also gets SIMQ_BROKER=host:port. It checks that the installed client is the
// pinned version and fails naming tools/setup otherwise; this test checks the interpreter and
// the package directory are there at all. Nothing is skipped: a missing piece is a failure
// that says what tools/setup installs.

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <signal.h>
#include <unistd.h>

#include "gtest/gtest.h"

#include "broker/testing/certs.h"
#include "broker/testing/process.h"
#include "conformance/interop/simq_process.h"

namespace simq::interop {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr char kNode[] = "/usr/bin/node";

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

// The "FAIL ..." lines (Node runner) or "FAIL: ..." / "ERROR: ..." lines (Python unittest).
std::string FailureLines(const std::string& output) {
  std::string failed;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("FAIL", 0) == 0 || line.rfind("ERROR:", 0) == 0) failed += "\n  " + line;
  }
  return failed.empty() ? " (none reported: a crash or a set-up error? see the output above)"
                        : failed;
}

TEST(ScriptInteropTest, ScriptPassesAgainstAFreshSimqBroker) {
  const std::string script = RunfilesPathFromEnv("SIMQ_INTEROP_SCRIPT");
  ASSERT_FALSE(script.empty());
  const std::string runtime = Env("SIMQ_INTEROP_RUNTIME");
  const std::string dir = fs::path(script).parent_path().filename().string();
  const std::string cache = CacheDir();

  std::vector<std::string> argv;
  std::vector<std::string> env;
  if (runtime == "python") {
    const std::string python = cache + "/python/" + dir + "/bin/python";
    ASSERT_EQ(::access(python.c_str(), X_OK), 0)
        << "The Python venv for conformance/interop/" << dir << " is missing (" << python
        << " not found). Run tools/setup: its third_party/python/fetch builds it with Debian's "
           "python3 and python3-venv and installs the packages pinned in "
        << dir << "/requirements.txt from PyPI.";
    argv = {python, "-u", script, "-v"};
    env.push_back("PYTHONDONTWRITEBYTECODE=1");  // the runfiles are read-only
  } else if (runtime == "node") {
    ASSERT_EQ(::access(kNode, X_OK), 0)
        << kNode << " is missing: Debian package 'nodejs'; tools/setup installs it.";
    const std::string modules = cache + "/node/" + dir + "/node_modules";
    ASSERT_TRUE(fs::is_directory(modules))
        << "The npm packages for conformance/interop/" << dir << " are missing (" << modules
        << " not found). Run tools/setup: its third_party/node/fetch runs `npm ci` of " << dir
        << "/package-lock.json into the simq cache.";
    argv = {kNode, script};
    env.push_back("SIMQ_NODE_MODULES=" + modules);
  } else {
    FAIL() << "SIMQ_INTEROP_RUNTIME is '" << runtime << "': the BUILD file sets python or node";
  }

  const std::string args = Env("SIMQ_INTEROP_ARGS");
  auto uses = [&args](const std::string& placeholder) {
    return args.find(placeholder) != std::string::npos;
  };
  SimqProcess broker;
  std::string ca_file;
  if (uses("{ws}")) broker.AddListener("ws");
  if (uses("{wss}") || uses("{ca}")) {
    const std::string certs = testing::TestTempDir() + "/certs";
    fs::create_directories(certs);
    const testing::TestCa ca = testing::MakeCa(certs, "interop-ca");
    const testing::KeyPair server = testing::IssueServerCert(ca, certs, "simq");
    ASSERT_FALSE(HasFailure()) << "could not make the test certificates";
    ca_file = ca.cert;
    broker.AddListener("wss",
                       "cert_file = \"" + server.cert + "\"\nkey_file = \"" + server.key + "\"\n");
  }
  ASSERT_TRUE(broker.Start()) << broker.error();
  auto host_port = [](uint16_t port) { return "127.0.0.1:" + std::to_string(port); };
  const std::pair<std::string, std::string> substitutions[] = {
      {"{broker}", broker.address()},
      {"{ws}", host_port(broker.listener_port("ws"))},
      {"{wss}", host_port(broker.listener_port("wss"))},
      {"{ca}", ca_file},
  };
  std::istringstream split(args);
  for (std::string arg; split >> arg;) {
    for (const auto& [placeholder, value] : substitutions) {
      if (const size_t at = arg.find(placeholder); at != std::string::npos) {
        arg.replace(at, placeholder.size(), value);
      }
    }
    argv.push_back(arg);
  }
  env.push_back("SIMQ_BROKER=" + broker.address());

  const std::string log = testing::TestTempDir() + "/" + dir + "-script.log";
  testing::Process run(argv, log, env);
  ASSERT_TRUE(run.ok()) << run.error();
  const std::optional<int> status = run.Wait(150s);
  if (!status) ::kill(-run.pid(), SIGKILL);
  const std::string output = run.Log();
  std::cout << "conformance/interop/" << dir << " (" << runtime << ") against simq at "
            << broker.address() << ":\n"
            << output << std::endl;
  EXPECT_EQ(status, 0) << (status ? "" : "the script timed out; ")
                       << "failures:" << FailureLines(output) << "\n(the script's output is above)";
  EXPECT_EQ(broker.Stop(), 0) << "the broker did not shut down cleanly on SIGTERM";
  if (HasFailure()) std::cout << "simq broker log:\n" << broker.Log() << std::endl;
}

}  // namespace
}  // namespace simq::interop
