#include "server/http_message/http_validation.hpp"

#include <arpa/inet.h>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <charconv>
#include <cstring>
#include <iterator>
#include <string>

namespace svcproxy::server {
namespace http = boost::beast::http;

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

std::string_view trim(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
    value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
    value.remove_suffix(1);
  return value;
}

constexpr Rejection bad_target{HttpError::BadRequest, RejectReason::BadTarget};
constexpr Rejection bad_host{HttpError::BadRequest, RejectReason::BadHost};

// RFC 3986 reg-name: unreserved / pct-encoded / sub-delims.
bool is_reg_name(std::string_view name) {
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (is_alpha(c) || is_digit(c)) continue;
    if (c == '%') {
      if (i + 2 >= name.size() || !is_hex(name[i + 1]) || !is_hex(name[i + 2])) return false;
      i += 2;
      continue;
    }
    if (c == '\0' || std::strchr("-._~!$&'()*+,;=", c) == nullptr) return false;
  }
  return true;
}

struct Authority {
  std::string_view host;  // IPv6 literals keep their brackets
  std::string_view port;  // empty when absent
};

// host [":" port], or nothing when it is not one.
std::optional<Authority> split_authority(std::string_view value) {
  Authority out;
  if (!value.empty() && value.front() == '[') {
    const std::size_t close = value.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string literal(value.substr(1, close - 1));
    in6_addr address;
    if (::inet_pton(AF_INET6, literal.c_str(), &address) != 1) return std::nullopt;
    out.host = value.substr(0, close + 1);
    value.remove_prefix(close + 1);
    if (!value.empty() && value.front() != ':') return std::nullopt;
  } else {
    const std::size_t colon = value.find(':');
    out.host = value.substr(0, colon);
    if (out.host.empty() || !is_reg_name(out.host)) return std::nullopt;
    value.remove_prefix(colon == std::string_view::npos ? value.size() : colon);
  }
  if (!value.empty()) {  // ":" port
    out.port = value.substr(1);
    if (out.port.size() > 5) return std::nullopt;
    for (const char c : out.port)
      if (!is_digit(c)) return std::nullopt;
    unsigned port = 0;
    std::from_chars(out.port.data(), out.port.data() + out.port.size(), port);
    if (port > 65535) return std::nullopt;
  }
  return out;
}

std::string_view effective_port(std::string_view port, std::string_view default_port) {
  return port.empty() ? default_port : port;
}

// Bytes a request target may hold: visible ASCII and obs-text, no fragment. (Beast has
// ended the target at the first space; tabs and other controls are refused here.)
bool valid_target_bytes(std::string_view target) {
  for (const char c : target) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f || c == '#') return false;
  }
  return true;
}

std::size_t field_count(const RequestHead& head) {
  return static_cast<std::size_t>(std::distance(head.begin(), head.end()));
}

}  // namespace

bool is_unsupported_version(std::string_view request_line) {
  const std::size_t end = request_line.find('\n');
  if (end == std::string_view::npos || end == 0 || request_line[end - 1] != '\r') return false;
  std::string_view line = request_line.substr(0, end - 1);
  constexpr std::string_view kPrefix = "HTTP/";
  if (line.size() < kPrefix.size() + 3) return false;
  const std::string_view version = line.substr(line.size() - (kPrefix.size() + 3));
  if (version.substr(0, kPrefix.size()) != kPrefix) return false;
  const char major = version[kPrefix.size()];
  const char dot = version[kPrefix.size() + 1];
  const char minor = version[kPrefix.size() + 2];
  if (!is_digit(major) || dot != '.' || !is_digit(minor)) return false;
  return !(major == '1' && (minor == '0' || minor == '1'));
}

Rejection classify_request_parse_error(const boost::system::error_code& error,
                                       std::string_view buffered) {
  if (error == http::error::header_limit) {
    if (buffered.find('\n') == std::string_view::npos)
      return {HttpError::UriTooLong, RejectReason::UriTooLong};
    return {HttpError::HeaderFieldsTooLarge, RejectReason::HeaderTooLarge};
  }
  if (error == http::error::body_limit)
    return {HttpError::PayloadTooLarge, RejectReason::BodyTooLarge};
  if (error == http::error::bad_version && is_unsupported_version(buffered))
    return {HttpError::VersionNotSupported, RejectReason::UnsupportedVersion};
  if (error == http::error::bad_content_length || error == http::error::multiple_content_length ||
      error == http::error::bad_transfer_encoding)
    return {HttpError::BadRequest, RejectReason::BadFraming};
  if (error == http::error::bad_target) return {HttpError::BadRequest, RejectReason::BadTarget};
  if (error == http::error::bad_chunk || error == http::error::bad_chunk_extension)
    return {HttpError::BadRequest, RejectReason::BadChunk};
  return {HttpError::BadRequest, RejectReason::Malformed};
}

std::optional<Rejection> check_incomplete_request_line(std::string_view buffered,
                                                       std::size_t max_request_line_bytes) {
  // The CRLF is not part of the limit; a line still missing its LF may end in its CR.
  if (buffered.size() <= max_request_line_bytes + 1) return std::nullopt;
  if (buffered.find('\n') != std::string_view::npos) return std::nullopt;
  return Rejection{HttpError::UriTooLong, RejectReason::UriTooLong};
}

bool has_obs_fold(std::string_view raw_head) {
  const char* data = raw_head.data();
  const char* end = data + raw_head.size();
  for (const char* p = data; p < end;) {
    const void* found = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
    if (!found) return false;
    const char* next = static_cast<const char*>(found) + 1;
    if (next < end && (*next == ' ' || *next == '\t')) return true;
    p = next;
  }
  return false;
}

bool is_valid_host(std::string_view host) {
  return split_authority(host).has_value();
}

std::optional<Rejection> check_request_target(http::verb method, std::string_view target,
                                              std::string_view host) {
  if (target.empty() || !valid_target_bytes(target)) return bad_target;
  if (target == "*") {
    if (method == http::verb::options) return std::nullopt;
    return bad_target;
  }
  if (target.front() == '/') return std::nullopt;  // origin-form

  // absolute-form: http(s)://authority[/path...]; the authority must be the Host (RFC 9112
  // 3.2.2 has a proxy replace Host with it; refusing a disagreement keeps one reading).
  const std::size_t scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos) return bad_target;
  const std::string_view scheme = target.substr(0, scheme_end);
  std::string_view default_port;
  if (boost::beast::iequals(scheme, "http")) {
    default_port = "80";
  } else if (boost::beast::iequals(scheme, "https")) {
    default_port = "443";
  } else {
    return bad_target;
  }
  std::string_view rest = target.substr(scheme_end + 3);
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  if (authority.find('@') != std::string_view::npos) return bad_target;  // no userinfo
  const auto in_target = split_authority(authority);
  const auto in_host = split_authority(host);
  if (!in_target || !in_host) return bad_target;
  if (!boost::beast::iequals(in_target->host, in_host->host) ||
      effective_port(in_target->port, default_port) != effective_port(in_host->port, default_port))
    return bad_target;
  return std::nullopt;
}

// RFC 9112 6.1 and 6.3: chunked applied twice, or not the final coding, leaves the body's
// length unknowable: 400, a smuggling vector otherwise. A coding before a final chunked
// (gzip, chunked) is well framed but not one svcproxy decodes: 501, as for one alone.
std::optional<Rejection> check_transfer_codings(std::string_view codings) {
  std::size_t chunked = 0;
  std::size_t count = 0;
  bool last_is_chunked = false;
  while (!codings.empty()) {
    const std::size_t comma = codings.find(',');
    const std::string_view coding = trim(codings.substr(0, comma));
    codings = comma == std::string_view::npos ? std::string_view() : codings.substr(comma + 1);
    if (coding.empty()) continue;
    ++count;
    last_is_chunked = boost::beast::iequals(coding, "chunked");
    if (last_is_chunked) ++chunked;
  }
  if (chunked > 1 || (chunked == 1 && !last_is_chunked))
    return Rejection{HttpError::BadRequest, RejectReason::BadFraming};
  if (count != 1 || !last_is_chunked)
    return Rejection{HttpError::NotImplemented, RejectReason::NotImplemented};
  return std::nullopt;
}

std::optional<Rejection> check_request_head(const RequestHead& head, std::string_view raw_head,
                                            const conf::Limits& limits) {
  if (head.version() != 10 && head.version() != 11)
    return Rejection{HttpError::VersionNotSupported, RejectReason::UnsupportedVersion};
  const std::size_t line_end = raw_head.find('\n');
  std::size_t line_bytes = line_end == std::string_view::npos ? raw_head.size() : line_end;
  if (line_bytes > 0 && line_bytes == line_end && raw_head[line_end - 1] == '\r') --line_bytes;
  if (line_bytes > static_cast<std::size_t>(limits.max_request_line_bytes))
    return Rejection{HttpError::UriTooLong, RejectReason::UriTooLong};
  if (has_obs_fold(raw_head)) return Rejection{HttpError::BadRequest, RejectReason::Malformed};
  if (field_count(head) > static_cast<std::size_t>(limits.max_header_count))
    return Rejection{HttpError::HeaderFieldsTooLarge, RejectReason::TooManyHeaders};

  // svcproxy is a reverse proxy: it opens no tunnels to wherever a client names.
  if (head.method() == http::verb::connect)
    return Rejection{HttpError::MethodNotAllowed, RejectReason::MethodNotAllowed};

  // Host: exactly one in HTTP/1.1 (RFC 9112 3.2), at most one in 1.0; a valid host[:port].
  const auto hosts = head.count(http::field::host);
  if (hosts > 1 || (hosts == 0 && head.version() == 11)) return bad_host;
  std::string_view host;
  if (hosts == 1) {
    host = trim(head[http::field::host]);
    if (!is_valid_host(host)) return bad_host;
  }
  const std::string_view target = head.target();
  if (hosts == 0 && !target.empty() && target.front() != '/' && target != "*")
    return bad_target;  // absolute-form from HTTP/1.0 without a Host to agree with
  if (auto rejected = check_request_target(head.method(), target, host)) return rejected;

  // Transfer-Encoding: only "chunked", and only from an HTTP/1.1 client. Beast already
  // rejected it next to a Content-Length and in duplicate.
  const auto te = head.find(http::field::transfer_encoding);
  if (te != head.end()) {
    if (head.version() == 10) return Rejection{HttpError::BadRequest, RejectReason::BadFraming};
    return check_transfer_codings(te->value());
  }
  return std::nullopt;
}

}  // namespace svcproxy::server
