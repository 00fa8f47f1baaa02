// //loadgen: MQTT load generator (see README.md and `loadgen --help`).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <signal.h>

#include "loadgen/engine.h"
#include "loadgen/options.h"
#include "loadgen/report.h"
#include "loadgen/sink.h"

int main(int argc, char** argv) {
  using namespace simq::loadgen;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  }
  absl::StatusOr<Options> options = ParseOptions(args);
  if (!options.ok()) {
    std::fprintf(stderr, "loadgen: %s\n", std::string(options.status().message()).c_str());
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  if (options->scenario == Scenario::kSink) return RunSink(*options);
  absl::StatusOr<Summary> summary = Run(*options, options->quiet ? nullptr : &std::cerr);
  if (!summary.ok()) {
    std::fprintf(stderr, "loadgen: %s\n", std::string(summary.status().message()).c_str());
    return 1;
  }
  const std::string json = ToJson(*summary);
  if (options->json_path.empty()) {
    std::cout << json << std::flush;
  } else {
    std::ofstream(options->json_path) << json;
  }
  if (!summary->failures.empty()) {
    for (const std::string& f : summary->failures)
      std::fprintf(stderr, "loadgen: FAILED %s\n", f.c_str());
    for (const std::string& e : summary->error_samples)
      std::fprintf(stderr, "loadgen:   %s\n", e.c_str());
  }
  return options->check && !summary->failures.empty() ? 3 : 0;
}
