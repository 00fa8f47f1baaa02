// //conformance:suite — the black-box MQTT 5.0 / 3.1.1 conformance suite. See README.md.
//
//   suite --host 127.0.0.1 --port 1883                 # a running broker
//   suite --broker-binary bazel-bin/broker/broker --broker-config conformance/simq.toml
//   suite --list                                       # test names
//   suite --filter MQTT_3_3_1_,MQTT_4_3 --version 5

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "fmt/format.h"

#include "conformance/broker_process.h"
#include "conformance/harness.h"
#include "conformance/runner.h"

namespace {

using namespace simq::conformance;

constexpr char kUsage[] = R"(usage: suite [options]

Runs one test per server-side normative statement of MQTT 5.0 and 3.1.1 against a broker.

  --host HOST              broker address (default 127.0.0.1)
  --port PORT              broker port (default 1883)
  --broker-binary PATH     start this simq-style broker on a free loopback port instead:
                           PATH --listen tcp://127.0.0.1:PORT [--config FILE] --data-dir DIR
  --broker-config FILE     configuration file for --broker-binary
  --work-dir DIR           where --broker-binary keeps its log and data ($TEST_TMPDIR or /tmp)
  --version 5|3.1.1|all    which specification's statements to test (default all)
  --filter S1[,S2...]      only tests whose name contains one of these strings
  --list                   print the selected test names and exit
  --list-statements        print "name<TAB>statement<TAB>version" and exit
  --jobs N                 tests run at the same time (default 8)
  --wait-ms MS             longest wait for one expected packet (default 5000)
  --quiet-ms MS            how long "nothing arrives" is watched (default 500)
  --test-timeout-ms MS     bound of one test (default 20000)
  --tls, --ws              reserved for the TLS and WebSocket transports (not supported yet)

Output: one line per test (PASS name | FAIL name: reason | SKIP name: reason), then
"N passed, N failed, N skipped". Exit status 0 if nothing failed, 1 if something did, 2 on a
usage error.
)";

int Usage(const std::string& error) {
  std::cerr << "suite: " << error << "\n\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  Options options;
  options.endpoint.host = "127.0.0.1";
  options.endpoint.port = 1883;
  std::string broker_binary, broker_config, version = "all", filter;
  std::string work_dir;
  if (const char* tmp = std::getenv("TEST_TMPDIR")) work_dir = tmp;
  bool list = false, list_statements = false;
  int jobs = 8;

  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= args.size()) return false;
      *out = args[++i];
      return true;
    };
    auto number = [&](long* out) {
      std::string s;
      if (!value(&s)) return false;
      char* end = nullptr;
      *out = std::strtol(s.c_str(), &end, 10);
      return end != s.c_str() && *end == '\0' && *out >= 0;
    };
    long n = 0;
    std::string s;
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (a == "--tls" || a == "--ws") {
      std::cerr << "suite: " << a << ": not supported yet (the TLS and WebSocket transports are "
                << "being built)\n";
      return 2;
    } else if (a == "--host") {
      if (!value(&options.endpoint.host)) return Usage("--host needs a value");
    } else if (a == "--port") {
      if (!number(&n) || n == 0 || n > 65535) return Usage("--port needs a port number");
      options.endpoint.port = static_cast<uint16_t>(n);
    } else if (a == "--broker-binary") {
      if (!value(&broker_binary)) return Usage("--broker-binary needs a path");
    } else if (a == "--broker-config") {
      if (!value(&broker_config)) return Usage("--broker-config needs a path");
    } else if (a == "--work-dir") {
      if (!value(&work_dir)) return Usage("--work-dir needs a path");
    } else if (a == "--version") {
      if (!value(&version) || (version != "5" && version != "3.1.1" && version != "all")) {
        return Usage("--version takes 5, 3.1.1 or all");
      }
    } else if (a == "--filter") {
      if (!value(&filter)) return Usage("--filter needs a comma-separated list of strings");
    } else if (a == "--list") {
      list = true;
    } else if (a == "--list-statements") {
      list_statements = true;
    } else if (a == "--jobs") {
      if (!number(&n) || n == 0) return Usage("--jobs needs a positive number");
      jobs = static_cast<int>(n);
    } else if (a == "--wait-ms") {
      if (!number(&n) || n == 0) return Usage("--wait-ms needs a positive number");
      options.wait = Ms(n);
    } else if (a == "--quiet-ms") {
      if (!number(&n) || n == 0) return Usage("--quiet-ms needs a positive number");
      options.quiet = Ms(n);
    } else if (a == "--test-timeout-ms") {
      if (!number(&n) || n == 0) return Usage("--test-timeout-ms needs a positive number");
      options.test_timeout = Ms(n);
    } else {
      return Usage("unknown argument " + a);
    }
  }

  Registry registry;
  RegisterAllTests(registry);
  std::vector<std::string> filters;
  for (size_t start = 0; !filter.empty() && start <= filter.size();) {
    size_t end = filter.find(',', start);
    if (end == std::string::npos) end = filter.size();
    if (end > start) filters.push_back(filter.substr(start, end - start));
    start = end + 1;
  }
  auto selected_by_filter = [&](const std::string& name) {
    if (filters.empty()) return true;
    for (const std::string& f : filters) {
      if (name.find(f) != std::string::npos) return true;
    }
    return false;
  };
  std::vector<const TestCase*> selected;
  for (const TestCase& tc : registry.tests()) {
    if (version == "5" && tc.version != kV5) continue;
    if (version == "3.1.1" && tc.version != kV311) continue;
    if (!selected_by_filter(tc.name)) continue;
    selected.push_back(&tc);
  }
  if (list || list_statements) {
    for (const TestCase* tc : selected) {
      if (list_statements) {
        std::cout << tc->name << "\t" << tc->statement << "\t"
                  << (tc->version == kV5 ? "5.0" : "3.1.1") << "\n";
      } else {
        std::cout << tc->name << "\n";
      }
    }
    return 0;
  }

  std::unique_ptr<BrokerProcess> broker;
  if (!broker_binary.empty()) {
    if (work_dir.empty()) {
      char tmpl[] = "/tmp/simq-conformance-XXXXXX";
      if (::mkdtemp(tmpl) == nullptr) return Usage("cannot create a work directory in /tmp");
      work_dir = tmpl;
    }
    absl::StatusOr<std::unique_ptr<BrokerProcess>> b =
        BrokerProcess::Start(broker_binary, broker_config, work_dir);
    if (!b.ok()) {
      std::cerr << "suite: " << b.status().message() << "\n";
      return 2;
    }
    broker = *std::move(b);
    options.endpoint.host = "127.0.0.1";
    options.endpoint.port = broker->port();
    std::cout << "# broker " << broker_binary << " on port " << broker->port() << ", log "
              << broker->log_path() << "\n";
  }

  RunResult result = RunTests(selected, options, jobs, std::cout);
  if (broker && !broker->running()) {
    std::cout << "# the broker exited during the run; its log ends with:\n"
              << broker->LogTail() << "\n";
  }
  return result.failed > 0 ? 1 : 0;
}
