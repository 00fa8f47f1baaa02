// Assertions for our own invariants. Never use them on network input or configuration: those
// get a Status with a reason (STYLE §16).
//
//   SIMQ_CHECK(inflight_ <= receive_maximum_) << is not available; pass a message instead:
//   SIMQ_CHECK(inflight_ <= receive_maximum_, "in-flight window overrun");
#pragma once

namespace simq::base {

// Prints `file:line: check failed: expr (message)` to stderr and aborts.
[[noreturn]] void CheckFailed(const char* file, int line, const char* expr, const char* message);

}  // namespace simq::base

#define SIMQ_CHECK(cond, ...)                                               \
  do {                                                                      \
    if (!(cond)) [[unlikely]]                                               \
      ::simq::base::CheckFailed(__FILE__, __LINE__, #cond, "" __VA_ARGS__); \
  } while (false)

#ifdef NDEBUG
#define SIMQ_DCHECK(cond, ...) \
  do {                         \
  } while (false && (cond))
#else
#define SIMQ_DCHECK(cond, ...) SIMQ_CHECK(cond, ##__VA_ARGS__)
#endif
