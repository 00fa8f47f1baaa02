#include "broker/net/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "fmt/format.h"

namespace simq::net {
namespace ssl = boost::asio::ssl;

namespace {

std::string OpenSslError(const boost::system::error_code& ec) {
  return ec.message();
}

}  // namespace

absl::StatusOr<std::shared_ptr<ssl::context>> MakeServerContext(
    const config::ListenerConfig& listener) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  auto fail = [&](std::string_view what, const std::string& file) {
    return absl::InvalidArgumentError(fmt::format("listener {}: cannot load {} {}: {}",
                                                  listener.name, what, file, OpenSslError(ec)));
  };
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_compression |
                       ssl::context::single_dh_use,
                   ec);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, listener.tls_min_version == config::TlsVersion::kTls13
                                            ? TLS1_3_VERSION
                                            : TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  ctx->use_certificate_chain_file(listener.cert_file, ec);
  if (ec) return fail("certificate chain", listener.cert_file);
  ctx->use_private_key_file(listener.key_file, ssl::context::pem, ec);
  if (ec) return fail("private key", listener.key_file);
  if (SSL_CTX_check_private_key(native) != 1) {
    return absl::InvalidArgumentError(
        fmt::format("listener {}: the key in {} does not match the "
                    "certificate in {}",
                    listener.name, listener.key_file, listener.cert_file));
  }
  if (!listener.ca_file.empty()) {
    ctx->load_verify_file(listener.ca_file, ec);
    if (ec) return fail("CA file", listener.ca_file);
    // Tell clients which CAs we accept, so they pick the right certificate.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(listener.ca_file.c_str())) {
      SSL_CTX_set_client_CA_list(native, names);
    }
    ssl::verify_mode mode = ssl::verify_peer;
    if (listener.require_client_cert) mode |= ssl::verify_fail_if_no_peer_cert;
    ctx->set_verify_mode(mode, ec);
    // Session tickets would skip client-certificate checks against a reloaded CA; keep it simple.
    SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(native, 0);
  }
  return ctx;
}

std::optional<std::string> CertificateIdentity(SSL* ssl, config::CertificateIdentity which) {
  if (which == config::CertificateIdentity::kNone) return std::nullopt;
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) {
    X509_free(cert);
    return std::nullopt;
  }
  std::optional<std::string> identity;
  if (which == config::CertificateIdentity::kCn) {
    X509_NAME* subject = X509_get_subject_name(cert);
    const int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (index >= 0) {
      ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
      unsigned char* utf8 = nullptr;
      const int length = ASN1_STRING_to_UTF8(&utf8, data);
      if (length > 0) identity.emplace(reinterpret_cast<char*>(utf8), static_cast<size_t>(length));
      OPENSSL_free(utf8);
    }
  } else {
    auto* names =
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names) && !identity; ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
      const ASN1_IA5STRING* text = nullptr;
      if (name->type == GEN_DNS) text = name->d.dNSName;
      if (name->type == GEN_EMAIL) text = name->d.rfc822Name;
      if (name->type == GEN_URI) text = name->d.uniformResourceIdentifier;
      if (text != nullptr && text->length > 0) {
        identity.emplace(reinterpret_cast<const char*>(text->data),
                         static_cast<size_t>(text->length));
      }
    }
    GENERAL_NAMES_free(names);
  }
  X509_free(cert);
  // A name with a NUL or a control character is not a user name.
  if (identity && identity->find_first_of(std::string_view("\0\r\n", 3)) != std::string::npos) {
    return std::nullopt;
  }
  return identity;
}

}  // namespace simq::net
