#include "broker/auth/scram.h"

#include "gtest/gtest.h"

#include "broker/auth/crypto.h"

namespace simq::auth {
namespace {

using protocol::ReasonCode;

// RFC 7677 §3: user "user", password "pencil".
constexpr char kClientNonce[] = "rOprNGfwEbeRWgbNEkqO";
constexpr char kServerNonce[] = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr char kServerFirst[] =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr char kClientFinal[] =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr char kServerFinal[] = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

ScramCredentials PencilCredentials() {
  return MakeScramCredentials("pencil", *Base64Decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
}

ScramServerExchange::Lookup Users() {
  return [](std::string_view user) -> std::optional<ScramCredentials> {
    if (user == "user") return PencilCredentials();
    return std::nullopt;
  };
}

TEST(ScramTest, ClientMatchesTheRfc7677Example) {
  ScramClient client("user", "pencil", kClientNonce);
  EXPECT_EQ(client.FirstMessage(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  absl::StatusOr<std::string> final = client.FinalMessage(kServerFirst);
  ASSERT_TRUE(final.ok()) << final.status();
  EXPECT_EQ(*final, kClientFinal);
  EXPECT_TRUE(client.VerifyServerFinal(kServerFinal).ok());
  EXPECT_FALSE(client.VerifyServerFinal("v=AAAA").ok());
  EXPECT_FALSE(client.VerifyServerFinal("e=invalid-proof").ok());
}

TEST(ScramTest, ServerMatchesTheRfc7677Example) {
  std::optional<bool> outcome;
  ScramServerExchange server(
      Users(), std::nullopt, "secret", [&](bool ok) { outcome = ok; }, kServerNonce);
  AuthStep first = server.Next("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  EXPECT_EQ(first.code, ReasonCode::kContinueAuthentication);
  EXPECT_EQ(first.data, kServerFirst);
  AuthStep final = server.Next(kClientFinal);
  EXPECT_EQ(final.code, ReasonCode::kSuccess);
  EXPECT_EQ(final.data, kServerFinal);
  EXPECT_EQ(server.username(), "user");
  EXPECT_EQ(outcome, true);
}

TEST(ScramTest, WrongPasswordFails) {
  std::optional<bool> outcome;
  ScramServerExchange server(Users(), std::nullopt, "secret", [&](bool ok) { outcome = ok; });
  ScramClient client("user", "pen");
  AuthStep first = server.Next(client.FirstMessage());
  ASSERT_EQ(first.code, ReasonCode::kContinueAuthentication);
  AuthStep final = server.Next(*client.FinalMessage(first.data));
  EXPECT_EQ(final.code, ReasonCode::kNotAuthorized);
  EXPECT_EQ(server.username(), std::nullopt);
  EXPECT_EQ(outcome, false);
}

TEST(ScramTest, UnknownUserLooksLikeAKnownOneUntilTheProof) {
  ScramServerExchange a(Users(), std::nullopt, "secret");
  ScramServerExchange b(Users(), std::nullopt, "secret");
  ScramClient client("nobody", "pencil");
  AuthStep first = a.Next(client.FirstMessage());
  ASSERT_EQ(first.code, ReasonCode::kContinueAuthentication);
  // The same fake salt every time, so a probe cannot tell it from a real user.
  ScramClient again("nobody", "pencil");
  AuthStep first_b = b.Next(again.FirstMessage());
  EXPECT_EQ(first.data.substr(first.data.find(",s=")),
            first_b.data.substr(first_b.data.find(",s=")));
  EXPECT_EQ(a.Next(*client.FinalMessage(first.data)).code, ReasonCode::kNotAuthorized);
}

TEST(ScramTest, RequiredUserMustMatch) {
  ScramServerExchange server(Users(), std::string("someone-else"), "secret");
  EXPECT_EQ(server.Next("n,,n=user,r=abc").code, ReasonCode::kNotAuthorized);
}

TEST(ScramTest, MalformedMessagesFail) {
  for (const char* first : {"", "p=tls-unique,,n=user,r=abc", "n,a=admin,n=user,r=abc", "n,,r=abc",
                            "n,,n=user", "n,,n=us=er,r=abc", "n,,m=x,n=user,r=a"}) {
    ScramServerExchange server(Users(), std::nullopt, "secret");
    EXPECT_EQ(server.Next(first).code, ReasonCode::kNotAuthorized) << first;
  }
  ScramServerExchange server(Users(), std::nullopt, "secret", nullptr, kServerNonce);
  ASSERT_EQ(server.Next("n,,n=user,r=rOprNGfwEbeRWgbNEkqO").code,
            ReasonCode::kContinueAuthentication);
  // A nonce that is not the combined one.
  EXPECT_EQ(
      server.Next("c=biws,r=rOprNGfwEbeRWgbNEkqO,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
          .code,
      ReasonCode::kNotAuthorized);
  // Nothing after the end.
  EXPECT_EQ(server.Next("x").code, ReasonCode::kNotAuthorized);
}

TEST(ScramTest, SaslNamesAreEscaped) {
  ScramServerExchange server(
      [](std::string_view user) -> std::optional<ScramCredentials> {
        if (user == "a,b=c") return PencilCredentials();
        return std::nullopt;
      },
      std::nullopt, "secret");
  ScramClient client("a,b=c", "pencil");
  const std::string first_message = client.FirstMessage();
  EXPECT_EQ(first_message.substr(0, 14), "n,,n=a=2Cb=3Dc");
  AuthStep first = server.Next(first_message);
  AuthStep final = server.Next(*client.FinalMessage(first.data));
  EXPECT_EQ(final.code, ReasonCode::kSuccess);
  EXPECT_EQ(server.username(), "a,b=c");
}

TEST(ScramTest, CredentialsRoundTripThroughText) {
  const ScramCredentials c = PencilCredentials();
  absl::StatusOr<ScramCredentials> decoded = DecodeScramCredentials(EncodeScramCredentials(c));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, c);
  EXPECT_FALSE(DecodeScramCredentials("$scram-sha-256$4096$c2FsdA==$AAAA$AAAA").ok());
  EXPECT_FALSE(DecodeScramCredentials("$scram-sha-1$4096$a$b$c").ok());
}

}  // namespace
}  // namespace simq::auth
