// Runs the `go test` of one Go interop module (conformance/interop/<module>/, named by
// SIMQ_GO_MODULE = the runfiles path of its go.mod) against a freshly started simq broker.
//
// Offline by design: the Go toolchain and the modules come from the cache tools/setup fills
// (third_party/go/fetch); GOPROXY=off makes a missing module an error, never a download. When
// either is missing the test fails and says so.

#include <chrono>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <signal.h>
#include <unistd.h>

#include "gtest/gtest.h"

#include "broker/testing/process.h"
#include "conformance/interop/simq_process.h"

namespace simq::interop {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr char kSetupHint[] =
    "Run tools/setup: its third_party/go/fetch installs the pinned Go toolchain (from the Go "
    "module proxy) into the simq cache and downloads every interop module's dependencies";

// Runs `go args...` in `dir` to completion; its exit status (nullopt on timeout) and output.
struct GoRun {
  std::optional<int> status;
  std::string output;
};

GoRun RunGo(const std::string& go, const std::vector<std::string>& args, const std::string& dir,
            const std::vector<std::string>& env, const std::string& log,
            std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = {"/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", dir, go};
  argv.insert(argv.end(), args.begin(), args.end());
  testing::Process p(argv, log, env);
  GoRun run;
  if (!p.ok()) {
    run.output = p.error();
    return run;
  }
  run.status = p.Wait(timeout);
  if (!run.status) ::kill(-p.pid(), SIGKILL);  // go and the test binary it started
  run.output = p.Log();
  return run;
}

// The names in the "--- FAIL: TestX (1.2s)" lines of `go test -v`.
std::string FailedGoTests(const std::string& output) {
  std::string failed;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    const size_t at = line.find("--- FAIL: ");
    if (at == std::string::npos) continue;
    std::string name = line.substr(at + 10);
    failed += " " + name.substr(0, name.find(' '));
  }
  return failed.empty() ? " (none reported: build error or crash? see the output)" : failed;
}

TEST(GoInteropTest, GoTestPassesAgainstAFreshSimqBroker) {
  const std::string gomod = RunfilesPathFromEnv("SIMQ_GO_MODULE");
  ASSERT_FALSE(gomod.empty());
  const std::string module = fs::path(gomod).parent_path().filename().string();

  const std::string cache = CacheDir();
  const std::string go = cache + "/go/toolchain/bin/go";
  ASSERT_EQ(::access(go.c_str(), X_OK), 0) << "The Go toolchain for the interop tests is missing ("
                                           << go << " not found). " << kSetupHint << ".";

  // Runfiles are read-only symlinks; `go` wants a writable module directory.
  const std::string tmp = testing::TestTempDir();
  const std::string work = tmp + "/" + module;
  fs::remove_all(work);
  fs::create_directories(work);
  for (const fs::directory_entry& e : fs::directory_iterator(fs::path(gomod).parent_path())) {
    if (e.is_regular_file()) fs::copy_file(e.path(), work + "/" + e.path().filename().string());
  }
  fs::permissions(work, fs::perms::owner_all, fs::perm_options::add);
  for (const fs::directory_entry& e : fs::directory_iterator(work)) {
    fs::permissions(e.path(), fs::perms::owner_read | fs::perms::owner_write,
                    fs::perm_options::add);
  }

  const std::vector<std::string> env = {
      "GOMODCACHE=" + cache + "/go/mod",
      "GOCACHE=" + cache + "/go/build",  // shared and safe for concurrent use; warmed by setup
      "GOPATH=" + tmp + "/gopath",
      "GOPROXY=off",
      "GOFLAGS=-mod=mod",
      "GOTOOLCHAIN=local",
      "GOENV=off",
      "GOTELEMETRY=off",
      "CGO_ENABLED=0",
  };

  // Every module the test needs must already be in the cache.
  GoRun download = RunGo(go, {"mod", "download"}, work, env, tmp + "/go-mod-download.log", 60s);
  ASSERT_EQ(download.status, 0) << "The Go modules of conformance/interop/" << module
                                << " are not all in the module cache (" << cache << "/go/mod). "
                                << kSetupHint << ".\n"
                                << download.output;

  SimqProcess broker;
  ASSERT_TRUE(broker.Start()) << broker.error();

  std::vector<std::string> test_env = env;
  test_env.push_back("SIMQ_BROKER=" + broker.address());
  GoRun test = RunGo(go, {"test", "-count=1", "-v", "-timeout=150s", "."}, work, test_env,
                     tmp + "/go-test.log", 180s);
  std::cout << "go test (conformance/interop/" << module << ") against simq at " << broker.address()
            << ":\n"
            << test.output << std::endl;
  EXPECT_EQ(test.status, 0) << (test.status ? "" : "go test timed out; ")
                            << "failed Go tests:" << FailedGoTests(test.output)
                            << "\n(go test output above)";
  EXPECT_EQ(broker.Stop(), 0) << "the broker did not shut down cleanly on SIGTERM";
  if (HasFailure()) std::cout << "simq broker log:\n" << broker.Log() << std::endl;
}

}  // namespace
}  // namespace simq::interop
