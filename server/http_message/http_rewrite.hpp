// Header rewriting between a client and a pod, and writing heads out. Pure: no sockets.
#pragma once

#include <boost/beast/http/message.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/http/field_arena.hpp"
#include "server/http_message/response_head.hpp"

namespace svcproxy::server {

// How a message body is delimited on the wire we write it to.
struct BodyFraming {
  enum class Kind { None, Length, Chunked, UntilClose };
  Kind kind = Kind::None;
  std::uint64_t length = 0;  // for Length

  bool has_body() const { return kind != Kind::None && !(kind == Kind::Length && length == 0); }
};

// What this hop knows about the client.
struct ForwardedContext {
  std::string_view client_ip;
  std::string_view proto = "http";
  std::string_view default_host;   // Host for an HTTP/1.0 request without one
  bool allow_underscores = false;  // limits.allowUnderscoresInHeaders
};

// Removes hop-by-hop headers: Connection, Keep-Alive, Proxy-Connection, TE, Trailer,
// Transfer-Encoding, Upgrade, and every header the Connection header names (except Host).
// `keep_upgrade` keeps Upgrade (and the Connection header is rewritten by the caller).
void remove_hop_by_hop(Fields& fields, bool keep_upgrade);

// Request fields that never reach a pod, beyond the hop-by-hop ones: Proxy-* (credentials
// and hints meant for a forward proxy, and httpoxy's `Proxy`), HTTP2-Settings (h2c is never
// tunnelled), and names with `_` unless `allow_underscores` (nginx's default: X_User and
// X-User must not be two readings of one field).
bool is_dropped_request_field(std::string_view name, bool allow_underscores);

// True when the request asks to switch protocols: an Upgrade header and "upgrade" among
// the Connection tokens, and no h2c among the protocols (an HTTP/2 upgrade is never
// passed on: the request goes as plain HTTP/1.1).
bool wants_upgrade(const RequestHead& head);

// The head a pod receives: HTTP/1.1 and keep-alive (or Connection: upgrade), hop-by-hop
// headers removed, one unambiguous framing (`framing`), X-Forwarded-For appended,
// X-Forwarded-Proto and X-Forwarded-Host set, Host preserved (added for HTTP/1.0 clients
// without one), is_dropped_request_field fields removed. `drop_expect` removes Expect when this hop
// answers 100-continue itself.
void rewrite_request(RequestHead& head, const ForwardedContext& context, const BodyFraming& framing,
                     bool upgrade, bool drop_expect);

// The head a client receives. Content-Length is the pod's; `to_client` chunked adds
// Transfer-Encoding: chunked; `keep_alive` false adds Connection: close, true to an
// HTTP/1.0 client adds Connection: keep-alive; `upgrade` (a 101) keeps Upgrade. (The proxy
// forwards with append_forwarded_response; this is its reference, byte for byte, in tests.)
void rewrite_response(ResponseHead& head, const BodyFraming& to_client, bool keep_alive,
                      bool client_http10, bool upgrade);

// Serialises a head (always as HTTP/1.1) onto `out`, ending with the blank line.
void append_head(const RequestHead& head, std::string& out);
void append_head(const ResponseHead& head, std::string& out);

// The same bytes as rewrite_request (or rewrite_response) followed by append_head, written
// in one pass over the parsed fields: no field is erased or inserted, so forwarding a head
// costs no allocation. An interim (1xx) response is forwarded as keep-alive, unframed.
void append_forwarded_request(const RequestHead& head, const ForwardedContext& context,
                              const BodyFraming& framing, bool upgrade, bool drop_expect,
                              std::string& out);
void append_forwarded_response(const ResponseHeadParser& head, const BodyFraming& to_client,
                               bool keep_alive, bool client_http10, bool upgrade, std::string& out);

bool is_idempotent(boost::beast::http::verb method);

// Appends `target` as a pod gets it: origin-form (RFC 9112 3.2.1). An absolute-form
// target (http://host/path?query, already checked against Host) loses its scheme and
// authority, with "/" for an empty path; origin-form and `*` stay as they are.
void append_origin_form(std::string_view target, std::string& out);

}  // namespace svcproxy::server
