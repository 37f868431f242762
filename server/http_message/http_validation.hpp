// Decisions on a client's request head, made before any byte of it reaches a pod, so that
// what a pod receives always has exactly one reading (no request smuggling) and no input
// is unbounded. Pure: no sockets; Beast's parser does the tokenising and these functions
// the policy. Every refusal names its status and its reason (the access log's error=).
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/system/error_code.hpp>
#include <optional>
#include <string_view>

#include "conf/model.hpp"
#include "server/http/field_arena.hpp"
#include "server/http_message/http_errors.hpp"

namespace svcproxy::server {

// The rejection for a request Beast refused to parse. `buffered` is what was read so far
// from the start of the request (for telling a long request line from long headers, and a
// newer HTTP version from garbage).
//   header_limit: 414 while the request line is incomplete, 431 after it
//   body_limit: 413; bad_version: 505 for a well-formed HTTP/x.y other than 1.0/1.1
//   (an HTTP/2 preface included), 400 otherwise; conflicting Content-Length or
//   Transfer-Encoding: 400 bad_framing; anything else (a space before the colon, a bare
//   CR, ...): 400 malformed.
Rejection classify_request_parse_error(const boost::system::error_code& error,
                                       std::string_view buffered);

// While a request line is still incomplete (`buffered` holds no LF yet): 414 once it is
// longer than `max_request_line_bytes`, so a client cannot make us wait for a long one.
std::optional<Rejection> check_incomplete_request_line(std::string_view buffered,
                                                       std::size_t max_request_line_bytes);

// The Transfer-Encoding value of an HTTP/1.1 request: nothing when it is exactly chunked;
// 400 bad_framing when chunked is repeated or not the final coding; 501 not_implemented
// for any other coding.
std::optional<Rejection> check_transfer_codings(std::string_view codings);

// Checks a head Beast accepted. `raw_head` is the head exactly as received (Beast unfolds
// obs-fold lines silently, so they are found here). Returns the rejection to answer with,
// or nothing when the request may be forwarded:
//   a version other than 1.0/1.1: 505; obs-fold: 400; a request line over
//   maxRequestLineBytes: 414; more fields than maxHeaderCount: 431; CONNECT: 405;
//   Host missing (HTTP/1.1), repeated or not a valid host[:port]: 400; a request target
//   that is not origin-form, absolute-form http(s) whose authority equals Host, or `*`
//   with OPTIONS: 400; Transfer-Encoding other than exactly `chunked`: 501, from an
//   HTTP/1.0 client: 400.
std::optional<Rejection> check_request_head(const RequestHead& head, std::string_view raw_head,
                                            const conf::Limits& limits);

// RFC 3986 host [":" port]: a reg-name, an IPv4 address or a bracketed IPv6 address, and
// a port of at most 65535 (an empty port is allowed, as the RFC does). Not empty.
bool is_valid_host(std::string_view host);

// The request target for `method` (RFC 9112 3.2) and its agreement with `host` (the Host
// field's value): nothing when it may be forwarded.
std::optional<Rejection> check_request_target(boost::beast::http::verb method,
                                              std::string_view target, std::string_view host);

// A header line continued on the next line (CRLF followed by a space or tab).
bool has_obs_fold(std::string_view raw_head);

// True for an "HTTP/x.y" request line whose version is neither 1.0 nor 1.1.
bool is_unsupported_version(std::string_view request_line);

}  // namespace svcproxy::server
