#include "broker/testing/certs.h"

#include <atomic>
#include <chrono>
#include <vector>

#include <unistd.h>

#include "fmt/format.h"
#include "gtest/gtest.h"

#include "broker/testing/process.h"

namespace simq::testing {
namespace {

constexpr char kOpenssl[] = "/usr/bin/openssl";

bool Openssl(std::vector<std::string> args) {
  if (::access(kOpenssl, X_OK) != 0) {
    ADD_FAILURE() << kOpenssl << " is missing: Debian package 'openssl'; tools/setup installs it";
    return false;
  }
  static std::atomic<int> n{0};
  args.insert(args.begin(), kOpenssl);
  Process p(args, fmt::format("{}/openssl-{}.log", TestTempDir(), n++));
  std::optional<int> status = p.Wait(std::chrono::seconds(30));
  if (status != 0) {
    ADD_FAILURE() << fmt::format("{} failed:\n{}", fmt::join(args, " "), p.Log());
    return false;
  }
  return true;
}

KeyPair Issue(const TestCa& ca, const std::string& dir, const std::string& name,
              const std::string& subject, const std::string& extensions) {
  KeyPair pair{fmt::format("{}/{}.pem", dir, name), fmt::format("{}/{}.key", dir, name)};
  const std::string csr = fmt::format("{}/{}.csr", dir, name);
  const std::string ext = fmt::format("{}/{}.ext", dir, name);
  WriteFile(ext, extensions);
  Openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
           "-keyout", pair.key, "-out", csr, "-subj", subject});
  Openssl({"x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-CAcreateserial", "-days",
           "2", "-sha256", "-extfile", ext, "-out", pair.cert});
  return pair;
}

}  // namespace

TestCa MakeCa(const std::string& dir, const std::string& name) {
  TestCa ca;
  ca.cert = fmt::format("{}/{}.pem", dir, name);
  ca.key = fmt::format("{}/{}.key", dir, name);
  Openssl({"req",      "-x509",
           "-newkey",  "ec",
           "-pkeyopt", "ec_paramgen_curve:prime256v1",
           "-nodes",   "-keyout",
           ca.key,     "-out",
           ca.cert,    "-days",
           "2",        "-sha256",
           "-subj",    fmt::format("/CN={}", name),
           "-addext",  "basicConstraints=critical,CA:TRUE",
           "-addext",  "keyUsage=critical,keyCertSign,cRLSign"});
  return ca;
}

KeyPair IssueServerCert(const TestCa& ca, const std::string& dir, const std::string& name) {
  return Issue(ca, dir, name, "/CN=localhost",
               "basicConstraints=CA:FALSE\n"
               "keyUsage=critical,digitalSignature,keyEncipherment\n"
               "extendedKeyUsage=serverAuth\n"
               "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
}

KeyPair IssueClientCert(const TestCa& ca, const std::string& dir, const std::string& name,
                        const std::string& subject, const std::string& san) {
  std::string extensions =
      "basicConstraints=CA:FALSE\n"
      "keyUsage=critical,digitalSignature\n"
      "extendedKeyUsage=clientAuth\n";
  if (!san.empty()) extensions += "subjectAltName=" + san + "\n";
  return Issue(ca, dir, name, subject, extensions);
}

}  // namespace simq::testing
