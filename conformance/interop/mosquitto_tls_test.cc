// Interop over TLS: Debian's mosquitto_pub / mosquitto_sub with --cafile, --cert and --key
// against a freshly started simq broker's tls listeners, as docs/security.md tells operators to
// set them up. Certificates are made by the test (broker/testing/certs.h), never checked in.
//
// Each test starts its own broker with the listener it needs; the clients reach it through
// MosquittoClients (mosquitto_clients.h), so every client runs with -d and its output shows the
// packets it exchanged.

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <signal.h>

#include "fmt/format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "broker/auth/password_file.h"
#include "broker/auth/password_hash.h"
#include "broker/testing/certs.h"
#include "broker/testing/ports.h"
#include "broker/testing/process.h"
#include "conformance/interop/mosquitto_clients.h"
#include "conformance/interop/simq_process.h"

namespace simq::interop {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// The TLS handshake alone, with openssl s_client pinned to one version (`-tls1_2`,
// `-tls1_3`): its exit status, 0 when the handshake succeeded. (mosquitto_pub's --tls-version
// sets a minimum, so it cannot offer TLS 1.2 only.)
int Handshake(uint16_t port, const std::string& ca, const std::string& version) {
  testing::Process p({"/usr/bin/openssl", "s_client", "-connect", fmt::format("127.0.0.1:{}", port),
                      "-CAfile", ca, "-verify_return_error", version},
                     fmt::format("{}/{}.log", testing::TestTempDir(), UniqueName("s_client")));
  std::optional<int> status = p.Wait(kArrive);
  EXPECT_TRUE(status.has_value()) << p.Log();
  return status.value_or(-1);
}

class MosquittoTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(MosquittoClientsInstalled());
    dir_ = testing::TestTempDir();
    ca_ = testing::MakeCa(dir_, UniqueName("ca"));
    server_ = testing::IssueServerCert(ca_, dir_, UniqueName("server"));
  }

  void TearDown() override {
    if (std::optional<int> status = broker_.Stop()) {
      EXPECT_EQ(*status, 0) << "the broker did not shut down cleanly on SIGTERM";
    }
    if (HasFailure()) std::cout << "simq broker log:\n" << broker_.Log() << std::endl;
  }

  // Starts the broker with one tls listener: the server certificate plus `options` (TOML
  // lines). Anything after the listener keys, such as an [auth] table, is the file's last table.
  void StartTls(const std::string& options = "") {
    broker_.AddListener("tls", fmt::format("cert_file = \"{}\"\nkey_file = \"{}\"\n{}",
                                           server_.cert, server_.key, options));
    ASSERT_TRUE(broker_.Start()) << broker_.error();
    tls_.emplace(broker_.listener_port("tls"));
  }

  // Runs mosquitto_pub on the TLS port expecting it to fail; its output.
  std::string PubFails(const std::vector<std::string>& args) {
    std::vector<std::string> argv = tls_->Common(kMosquittoPub, "mqttv5");
    argv.insert(argv.end(), args.begin(), args.end());
    testing::Process p(argv, fmt::format("{}/{}.log", dir_, UniqueName("pub-refused")));
    EXPECT_TRUE(p.ok()) << p.error();
    std::optional<int> status = p.Wait(kArrive);
    EXPECT_TRUE(status.has_value()) << "mosquitto_pub did not give up:\n" << p.Log();
    EXPECT_NE(status.value_or(0), 0) << "mosquitto_pub succeeded:\n" << p.Log();
    return p.Log();
  }

  std::string dir_;
  testing::TestCa ca_;
  testing::KeyPair server_;
  SimqProcess broker_;
  std::optional<MosquittoClients> tls_;  // the tls listener, once started
};

// Server-authenticated TLS: clients that trust the CA publish and subscribe, MQTT 3.1.1 and 5,
// QoS 1 both ways.
TEST_F(MosquittoTlsTest, PublishAndSubscribeWithCafile) {
  StartTls();
  // Both TLS versions are offered by default.
  EXPECT_EQ(Handshake(broker_.listener_port("tls"), ca_.cert, "-tls1_2"), 0);
  EXPECT_EQ(Handshake(broker_.listener_port("tls"), ca_.cert, "-tls1_3"), 0);
  const std::string topic = UniqueName("tls");
  for (const std::string v : {"mqttv311", "mqttv5"}) {
    auto sub = tls_->Subscribed(v, {"--cafile", ca_.cert, "-q", "1", "-t", topic + "/#"});
    const std::string out =
        tls_->Pub(v, {"--cafile", ca_.cert, "-q", "1", "-t", topic + "/" + v, "-m", "over TLS"});
    EXPECT_THAT(out, HasSubstr("received PUBACK"));
    ASSERT_TRUE(sub->WaitMessages(1)) << sub->Output();
    EXPECT_THAT(sub->Messages(), ElementsAre(fmt::format("MSG r=0 q=1 {}/{} over TLS", topic, v)));
  }
}

// A client whose CA did not sign the server's certificate refuses the handshake: no MQTT
// packet is exchanged.
TEST_F(MosquittoTlsTest, UntrustedServerCertificateIsRefused) {
  StartTls();
  const testing::TestCa other = testing::MakeCa(dir_, UniqueName("other-ca"));
  const std::string out = PubFails({"--cafile", other.cert, "-t", "tls/x", "-m", "no"});
  EXPECT_THAT(out, Not(HasSubstr("received CONNACK")));
  // The same client with the right CA gets through, so the refusal was the certificate's.
  EXPECT_THAT(tls_->Pub("mqttv5", {"--cafile", ca_.cert, "-t", "tls/x", "-m", "yes"}),
              HasSubstr("received CONNACK"));
}

// tls_min_version = "1.3" refuses TLS 1.2 (the default accepts both: see
// PublishAndSubscribeWithCafile).
TEST_F(MosquittoTlsTest, MinimumTlsVersion) {
  StartTls("tls_min_version = \"1.3\"\n");
  const uint16_t port = broker_.listener_port("tls");
  EXPECT_NE(Handshake(port, ca_.cert, "-tls1_2"), 0);
  EXPECT_EQ(Handshake(port, ca_.cert, "-tls1_3"), 0);
  EXPECT_THAT(tls_->Pub("mqttv5", {"--cafile", ca_.cert, "-t", "tls/v13", "-m", "1.3"}),
              HasSubstr("received CONNACK"));
}

// Mutual TLS with the certificate's CN as the user name. The broker has a password file (so
// anonymous access is off) and an ACL: a device authenticates by its certificate alone, may
// write only below its own name, and a client without a certificate is refused.
TEST_F(MosquittoTlsTest, MutualTlsUsesTheCertificateAsIdentity) {
  const std::string users = dir_ + "/" + UniqueName("users.txt");
  testing::WriteFile(users, "# nobody: only certificates get in\n");
  const std::string acl = dir_ + "/" + UniqueName("acl.txt");
  testing::WriteFile(acl,
                     "readwrite devices/%u/#\n"
                     "user monitor\n"
                     "read devices/#\n");
  const testing::KeyPair device =
      testing::IssueClientCert(ca_, dir_, UniqueName("device"), "/CN=device-1");
  const testing::KeyPair monitor =
      testing::IssueClientCert(ca_, dir_, UniqueName("monitor"), "/CN=monitor");
  StartTls(
      fmt::format("ca_file = \"{}\"\nrequire_client_cert = true\nidentity_as_username = \"cn\"\n"
                  "\n[auth]\npassword_file = \"{}\"\nacl_file = \"{}\"\n",
                  ca_.cert, users, acl));

  auto sub = tls_->Subscribed("mqttv5", {"--cafile", ca_.cert, "--cert", monitor.cert, "--key",
                                         monitor.key, "-q", "1", "-t", "devices/#"});
  const std::vector<std::string> as_device = {"--cafile", ca_.cert,   "--cert", device.cert,
                                              "--key",    device.key, "-q",     "1"};
  // Its own topic: delivered. A user name in CONNECT does not override the certificate.
  std::vector<std::string> own = as_device;
  own.insert(own.end(), {"-u", "monitor", "-t", "devices/device-1/status", "-m", "online"});
  EXPECT_THAT(tls_->Pub("mqttv5", own), HasSubstr("received PUBACK (Mid: 1, RC:0)"));
  // Another device's topic: PUBACK 0x87 Not authorized.
  std::vector<std::string> other = as_device;
  other.insert(other.end(), {"-t", "devices/device-2/status", "-m", "spoofed"});
  EXPECT_THAT(tls_->Pub("mqttv5", other), HasSubstr("received PUBACK (Mid: 1, RC:135)"));
  ASSERT_TRUE(sub->WaitMessages(1)) << sub->Output();
  EXPECT_THAT(sub->Messages(), ElementsAre("MSG r=0 q=1 devices/device-1/status online"));

  // Without a client certificate the handshake fails.
  const std::string out = PubFails({"--cafile", ca_.cert, "-t", "devices/x", "-m", "anonymous"});
  EXPECT_THAT(out, Not(HasSubstr("received CONNACK")));
}

// A password file with `users` (user name = password), argon2id hashes.
void WriteUsers(const std::string& path, const std::vector<std::string>& users) {
  auth::PasswordFile file;
  for (const std::string& user : users) {
    auth::PasswordEntry entry;
    entry.password_hash = *auth::HashPassword(user + "-password", auth::HashScheme::kArgon2id);
    file.Set(user, entry);
  }
  ASSERT_TRUE(file.Save(path).ok());
}

// SIGHUP to the broker binary, without dropping clients, as an operator renewing certificates and
// adding a user does: a client connected with the old certificate stays connected and receives, new
// clients get the new certificate (the old CA no longer verifies it) and the new user's password
// works.
TEST_F(MosquittoTlsTest, SighupReloadsCertificatesAndUsers) {
  const testing::TestCa new_ca = testing::MakeCa(dir_, UniqueName("new-ca"));
  const testing::KeyPair new_server = testing::IssueServerCert(new_ca, dir_, UniqueName("new"));
  const std::string cert = dir_ + "/" + UniqueName("live.pem");
  const std::string key = dir_ + "/" + UniqueName("live.key");
  std::filesystem::copy_file(server_.cert, cert);
  std::filesystem::copy_file(server_.key, key);
  const std::string users = dir_ + "/" + UniqueName("users.txt");
  WriteUsers(users, {"alice"});
  const uint16_t port = testing::PickFreePort();
  const std::string config = dir_ + "/" + UniqueName("simq.toml");
  testing::WriteFile(config, fmt::format("[[listeners]]\ntype = \"tls\"\nbind = \"127.0.0.1\"\n"
                                         "port = {}\ncert_file = \"{}\"\nkey_file = \"{}\"\n"
                                         "\n[auth]\npassword_file = \"{}\"\n",
                                         port, cert, key, users));
  const std::string binary = RunfilesPathFromEnv("SIMQ_BROKER_BINARY");
  ASSERT_FALSE(binary.empty());
  testing::Process broker({binary, "--config", config, "--data-dir",
                           dir_ + "/" + UniqueName("data"), "--log-level", "debug"},
                          dir_ + "/" + UniqueName("broker.log"));
  ASSERT_TRUE(broker.ok()) << broker.error();
  ASSERT_TRUE(testing::WaitForPort(port, std::chrono::seconds(15))) << broker.Log();
  MosquittoClients cli(port);

  auto sub = cli.Subscribed("mqttv5", {"--cafile", ca_.cert, "-u", "alice", "-P", "alice-password",
                                       "-q", "1", "-t", "reload/#"});
  // Renew the certificate (another CA, so that the test can tell which one is served) and add
  // bob; then SIGHUP and wait for the broker to say it read the new password file.
  std::filesystem::copy_file(new_server.cert, cert,
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(new_server.key, key,
                             std::filesystem::copy_options::overwrite_existing);
  WriteUsers(users, {"alice", "bob"});
  broker.Signal(SIGHUP);
  ASSERT_TRUE(WaitFor([&] { return broker.Log().find(": 2 users") != std::string::npos; }, kArrive))
      << broker.Log();

  EXPECT_THAT(cli.Pub("mqttv5", {"--cafile", new_ca.cert, "-u", "bob", "-P", "bob-password", "-q",
                                 "1", "-t", "reload/1", "-m", "renewed"}),
              HasSubstr("received PUBACK (Mid: 1, RC:0)"));
  ASSERT_TRUE(sub->WaitMessages(1)) << sub->Output();
  EXPECT_THAT(sub->Messages(), ElementsAre("MSG r=0 q=1 reload/1 renewed"));
  EXPECT_TRUE(sub->process().running()) << sub->Output();

  // The old CA no longer verifies what new connections are served.
  std::vector<std::string> stale = cli.Common(kMosquittoPub, "mqttv5");
  stale.insert(stale.end(), {"--cafile", ca_.cert, "-u", "bob", "-P", "bob-password", "-t",
                             "reload/2", "-m", "stale"});
  testing::Process refused(stale, dir_ + "/" + UniqueName("stale.log"));
  EXPECT_NE(refused.Wait(kArrive).value_or(0), 0) << refused.Log();

  broker.Kill(SIGTERM, std::chrono::seconds(10));
  if (HasFailure()) std::cout << "broker log:\n" << broker.Log() << std::endl;
}

}  // namespace
}  // namespace simq::interop
