#include "broker/base/check.h"

#include <cstdio>
#include <cstdlib>

namespace simq::base {

void CheckFailed(const char* file, int line, const char* expr, const char* message) {
  std::fprintf(stderr, "%s:%d: check failed: %s%s%s%s\n", file, line, expr,
               message[0] != '\0' ? " (" : "", message, message[0] != '\0' ? ")" : "");
  std::fflush(stderr);
  std::abort();
}

}  // namespace simq::base
