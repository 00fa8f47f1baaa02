// TLS for tls and wss listeners: the server context built from a listener's configuration,
// and the identity a client certificate carries.
//
//   absl::StatusOr<std::shared_ptr<asio::ssl::context>> ctx = MakeServerContext(listener);
//
// TLS 1.2 and 1.3 (tls_min_version), the certificate chain and key from PEM files, client
// certificates verified against ca_file (required with require_client_cert). OpenSSL's read and
// write buffers are released while a connection is idle (SSL_MODE_RELEASE_BUFFERS).
//
// A context is immutable once built; a reload builds a new one (Listener::Reload) and the
// connections made with the old one keep it.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "boost/asio/ssl/context.hpp"

#include "broker/config/config.h"

namespace simq::net {

// Errors name the listener and the file.
absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> MakeServerContext(
    const config::ListenerConfig& listener);

// The user name a verified peer certificate gives: its subject's CN, or its first
// subjectAltName of type DNS, email or URI. nullopt if there is no certificate or no such field.
std::optional<std::string> CertificateIdentity(SSL* ssl, config::CertificateIdentity which);

}  // namespace simq::net
