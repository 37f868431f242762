// Process-wide TLS counters the workers bump and /metrics reads:
// svcproxy_tls_handshakes_total{result="full"|"resumed",version},
// svcproxy_tls_handshake_errors_total{reason} and, for TLS to pods,
// svcproxy_upstream_tls_handshakes_total{result,version}. Relaxed atomics; any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace svcproxy::server {

enum class TlsVersion { Tls12, Tls13, Other };
inline constexpr std::size_t kTlsVersions = 3;
const char* to_string(TlsVersion version);
TlsVersion tls_version(std::string_view openssl_name);  // SSL_get_version()'s "TLSv1.3"

// Why a handshake did not finish.
enum class TlsFailure {
  Timeout,                // timeouts.tlsHandshake passed
  PlainHttp,              // an HTTP request on the TLS port (answered 400)
  NotTls,                 // anything else that is not a TLS record
  ProtocolVersion,        // TLS 1.1 or older, SSL
  NoSharedCipher,         // no cipher, curve or signature both sides take
  UnrecognizedName,       // strict SNI and no certificate for the name
  NoApplicationProtocol,  // ALPN without http/1.1
  Closed,                 // the client went away mid-handshake
  Other
};
inline constexpr std::size_t kTlsFailures = 9;
const char* to_string(TlsFailure failure);

struct TlsCounters {
  std::array<std::atomic<std::uint64_t>, kTlsVersions> handshakes{};  // full handshakes
  std::array<std::atomic<std::uint64_t>, kTlsVersions> resumed{};     // from a session ticket
  std::array<std::atomic<std::uint64_t>, kTlsFailures> failures{};
  std::array<std::atomic<std::uint64_t>, kTlsVersions> upstream_handshakes{};  // to pods
  std::array<std::atomic<std::uint64_t>, kTlsVersions> upstream_resumed{};
};

TlsCounters& tls_counters();
void count_tls_handshake(TlsVersion version, bool resumed);
void count_tls_failure(TlsFailure failure);
void count_upstream_tls_handshake(TlsVersion version, bool resumed);

}  // namespace svcproxy::server
