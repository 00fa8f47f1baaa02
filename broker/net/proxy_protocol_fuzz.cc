// libFuzzer target for the PROXY protocol parser (network input before anything else).
//
// Invariants checked on every input: a complete header never claims more bytes than it was
// given nor more than kMaxProxyHeader; parsing is prefix-monotone, i.e. every proper prefix of
// a complete header is reported incomplete (never refused, never a different header), so the
// reader that feeds it byte by byte sees the same header; and bytes after a header do not
// change it. Any violation traps; sanitizers catch the rest.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "broker/net/proxy_protocol.h"

namespace {

[[noreturn]] void Fail(const char* what, std::string_view data) {
  std::fprintf(stderr, "proxy_protocol_fuzz: %s (%zu bytes)\n", what, data.size());
  __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = simq::net::ParseProxyHeader(input);
  if (!parsed.ok() || !parsed->has_value()) return 0;
  const simq::net::ProxyHeader& header = **parsed;
  if (header.size == 0 || header.size > input.size()) Fail("size outside the input", input);
  if (header.size > simq::net::kMaxProxyHeader) Fail("longer than kMaxProxyHeader", input);
  const std::string_view exact = input.substr(0, header.size);
  auto again = simq::net::ParseProxyHeader(exact);
  if (!again.ok() || !again->has_value()) Fail("the header alone does not parse", input);
  if ((*again)->size != header.size || (*again)->source != header.source) {
    Fail("bytes after the header changed it", input);
  }
  for (size_t n = 0; n < header.size; ++n) {
    auto prefix = simq::net::ParseProxyHeader(exact.substr(0, n));
    if (!prefix.ok()) Fail("a prefix of a header is refused", input);
    if (prefix->has_value()) Fail("a prefix of a header is complete", input);
  }
  return 0;
}
