// Test certificates, made by the tests themselves with the openssl command line (Debian
// package openssl): a throwaway CA, server certificates for localhost / 127.0.0.1, and client
// certificates. Nothing here is checked in; every test run makes its own, valid for two days.
//
//   testing::TestCa ca = testing::MakeCa(dir, "test-ca");
//   testing::KeyPair server = testing::IssueServerCert(ca, dir, "server");
//   testing::KeyPair client = testing::IssueClientCert(ca, dir, "device-1", "CN=device-1",
//                                                      "email:device-1@example.com");
//
// Failures are gtest failures (ADD_FAILURE) naming the command and its output.
#pragma once

#include <string>

namespace simq::testing {

struct KeyPair {
  std::string cert;  // PEM file path
  std::string key;   // PEM file path (unencrypted EC P-256 key)
};

struct TestCa : KeyPair {};

TestCa MakeCa(const std::string& dir, const std::string& name);
// subjectAltName DNS:localhost, IP:127.0.0.1; CN=localhost.
KeyPair IssueServerCert(const TestCa& ca, const std::string& dir, const std::string& name);
// `subject` like "/CN=device-1"; `san` like "email:device-1@example.com" (empty: none).
KeyPair IssueClientCert(const TestCa& ca, const std::string& dir, const std::string& name,
                        const std::string& subject, const std::string& san = "");

}  // namespace simq::testing
