#include "server/http_validation.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <cstring>

namespace svcproxy::server {
namespace http = boost::beast::http;

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

std::string_view trim(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
    value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
    value.remove_suffix(1);
  return value;
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

HttpError classify_request_parse_error(const boost::system::error_code& error,
                                       std::string_view buffered) {
  if (error == http::error::header_limit)
    return buffered.find('\n') == std::string_view::npos ? HttpError::UriTooLong
                                                         : HttpError::HeaderFieldsTooLarge;
  if (error == http::error::body_limit) return HttpError::PayloadTooLarge;
  if (error == http::error::bad_version && is_unsupported_version(buffered))
    return HttpError::VersionNotSupported;
  return HttpError::BadRequest;
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

std::optional<HttpError> check_request_head(const RequestHead& head, std::string_view raw_head) {
  if (head.version() != 10 && head.version() != 11) return HttpError::VersionNotSupported;
  if (has_obs_fold(raw_head)) return HttpError::BadRequest;

  // Host: exactly one in HTTP/1.1 (RFC 9112 3.2), at most one in 1.0.
  const auto hosts = head.count(http::field::host);
  if (hosts > 1 || (hosts == 0 && head.version() == 11)) return HttpError::BadRequest;

  // Transfer-Encoding: only "chunked", and only from an HTTP/1.1 client. Beast already
  // rejected it next to a Content-Length and in duplicate.
  const auto te = head.find(http::field::transfer_encoding);
  if (te != head.end()) {
    if (head.version() == 10) return HttpError::BadRequest;
    if (!boost::beast::iequals(trim(te->value()), "chunked")) return HttpError::NotImplemented;
  }
  return std::nullopt;
}

}  // namespace svcproxy::server
