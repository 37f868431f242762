#include "server/tls/tls_counters.hpp"

namespace svcproxy::server {

const char* to_string(TlsVersion version) {
  switch (version) {
    case TlsVersion::Tls12:
      return "TLSv1.2";
    case TlsVersion::Tls13:
      return "TLSv1.3";
    case TlsVersion::Other:
      break;
  }
  return "other";
}

TlsVersion tls_version(std::string_view openssl_name) {
  if (openssl_name == "TLSv1.3") return TlsVersion::Tls13;
  if (openssl_name == "TLSv1.2") return TlsVersion::Tls12;
  return TlsVersion::Other;
}

const char* to_string(TlsFailure failure) {
  switch (failure) {
    case TlsFailure::Timeout:
      return "timeout";
    case TlsFailure::PlainHttp:
      return "plain_http";
    case TlsFailure::NotTls:
      return "not_tls";
    case TlsFailure::ProtocolVersion:
      return "protocol_version";
    case TlsFailure::NoSharedCipher:
      return "no_shared_cipher";
    case TlsFailure::UnrecognizedName:
      return "unrecognized_name";
    case TlsFailure::NoApplicationProtocol:
      return "no_application_protocol";
    case TlsFailure::Closed:
      return "closed";
    case TlsFailure::Other:
      break;
  }
  return "other";
}

TlsCounters& tls_counters() {
  static TlsCounters counters;
  return counters;
}

void count_tls_handshake(TlsVersion version, bool resumed) {
  auto& counts = resumed ? tls_counters().resumed : tls_counters().handshakes;
  counts[static_cast<std::size_t>(version)].fetch_add(1, std::memory_order_relaxed);
}

void count_upstream_tls_handshake(TlsVersion version, bool resumed) {
  auto& counts = resumed ? tls_counters().upstream_resumed : tls_counters().upstream_handshakes;
  counts[static_cast<std::size_t>(version)].fetch_add(1, std::memory_order_relaxed);
}

void count_tls_failure(TlsFailure failure) {
  tls_counters().failures[static_cast<std::size_t>(failure)].fetch_add(1,
                                                                       std::memory_order_relaxed);
}

}  // namespace svcproxy::server
