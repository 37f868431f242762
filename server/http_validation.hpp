// Framing decisions on a client's request, made before any byte of it reaches a pod, so
// that what a pod receives always has exactly one reading (no request smuggling). Pure: no
// sockets; Beast's parser does the tokenising and these functions the policy.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/system/error_code.hpp>
#include <optional>
#include <string_view>

#include "server/field_arena.hpp"
#include "server/http_errors.hpp"

namespace svcproxy::server {

// The status for a request Beast refused to parse. `buffered` is what was read so far from
// the start of the request (for telling a long request line from long headers, and a
// newer HTTP version from garbage).
//   header_limit: 414 while the request line is incomplete, 431 after it
//   body_limit: 413; bad_version: 505 for a well-formed HTTP/x.y other than 1.0/1.1
//   (an HTTP/2 preface included), 400 otherwise; anything else (both Content-Length and
//   Transfer-Encoding, differing Content-Lengths, a bad chunk size, a space before the
//   colon, a bare CR, ...): 400.
HttpError classify_request_parse_error(const boost::system::error_code& error,
                                       std::string_view buffered);

// Checks a head Beast accepted. `raw_head` is the head exactly as received (Beast unfolds
// obs-fold lines silently, so they are found here). Returns the status to answer with, or
// nothing when the request may be forwarded.
std::optional<HttpError> check_request_head(const RequestHead& head, std::string_view raw_head);

// A header line continued on the next line (CRLF followed by a space or tab).
bool has_obs_fold(std::string_view raw_head);

// True for an "HTTP/x.y" request line whose version is neither 1.0 nor 1.1.
bool is_unsupported_version(std::string_view request_line);

}  // namespace svcproxy::server
