#include "server/http_message/http_rewrite.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/container/small_vector.hpp>
#include <charconv>
#include <iterator>
#include <string>
#include <vector>

namespace svcproxy::server {
namespace http = boost::beast::http;

namespace {

constexpr std::string_view kForwardedFor = "X-Forwarded-For";

bool connection_has_token(const Fields& fields, std::string_view token) {
  for (auto it = fields.find(http::field::connection);
       it != fields.end() && it->name() == http::field::connection; ++it) {
    for (const auto& item : http::token_list(it->value()))
      if (boost::beast::iequals(item, token)) return true;
  }
  return false;
}

void append_decimal(std::string& out, std::uint64_t value) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, result.ptr);
}

void append_fields(const Fields& fields, std::string& out) {
  for (const auto& field : fields) {
    out += field.name_string();
    out += ": ";
    out += field.value();
    out += "\r\n";
  }
  out += "\r\n";
}

// Which fields remove_hop_by_hop would erase, decided per field without erasing. Works on
// Beast's fields and on a ResponseHeadParser alike.
class HopByHop {
 public:
  template <class FieldRange>
  HopByHop(const FieldRange& fields, bool keep_upgrade) : keep_upgrade_(keep_upgrade) {
    for (const auto& field : fields) {
      if (field.name() != http::field::connection) continue;
      for (const auto& name : http::token_list(field.value())) {
        if (boost::beast::iequals(name, "host") || boost::beast::iequals(name, "connection"))
          continue;
        if (keep_upgrade && boost::beast::iequals(name, "upgrade")) continue;
        named_.push_back(name);
      }
    }
  }

  template <class Field>
  bool drops(const Field& field) const {
    switch (field.name()) {
      case http::field::connection:
      case http::field::keep_alive:
      case http::field::proxy_connection:
      case http::field::te:
      case http::field::trailer:
      case http::field::transfer_encoding:
        return true;
      case http::field::upgrade:
        if (!keep_upgrade_) return true;
        break;
      default:
        break;
    }
    for (const std::string_view name : named_)
      if (boost::beast::iequals(name, field.name_string())) return true;
    return false;
  }

 private:
  bool keep_upgrade_;
  boost::container::small_vector<std::string_view, 4> named_;
};

bool upgrade_names_h2c(const RequestHead& head) {
  for (auto it = head.find(http::field::upgrade);
       it != head.end() && it->name() == http::field::upgrade; ++it) {
    for (const auto& item : http::token_list(it->value())) {
      // A protocol is name["/"version]: "h2c" and "h2c/..." alike.
      const std::string_view protocol(item.data(), item.size());
      if (boost::beast::iequals(protocol.substr(0, protocol.find('/')), "h2c")) return true;
    }
  }
  return false;
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

}  // namespace

void remove_hop_by_hop(Fields& fields, bool keep_upgrade) {
  // Names first: HopByHop looks into the Connection values that erasing would free.
  const HopByHop hop_by_hop(fields, keep_upgrade);
  std::vector<std::string> doomed;
  for (const auto& field : fields)
    if (hop_by_hop.drops(field)) doomed.emplace_back(field.name_string());
  for (const auto& name : doomed)
    fields.erase(name);
}

bool is_dropped_request_field(std::string_view name, bool allow_underscores) {
  constexpr std::string_view kProxy = "proxy";
  if (name.size() >= kProxy.size() &&
      boost::beast::iequals(name.substr(0, kProxy.size()), kProxy) &&
      (name.size() == kProxy.size() || name[kProxy.size()] == '-'))
    return true;
  if (boost::beast::iequals(name, "http2-settings")) return true;
  return !allow_underscores && name.find('_') != std::string_view::npos;
}

bool wants_upgrade(const RequestHead& head) {
  return head.count(http::field::upgrade) > 0 && connection_has_token(head, "upgrade") &&
         !upgrade_names_h2c(head);
}

void rewrite_request(RequestHead& head, const ForwardedContext& context, const BodyFraming& framing,
                     bool upgrade, bool drop_expect) {
  remove_hop_by_hop(head, upgrade);
  for (auto it = head.begin(); it != head.end();)
    it = is_dropped_request_field(it->name_string(), context.allow_underscores) ? head.erase(it)
                                                                                : std::next(it);
  if (upgrade) head.set(http::field::connection, "upgrade");
  if (drop_expect) head.erase(http::field::expect);

  head.erase(http::field::content_length);
  if (framing.kind == BodyFraming::Kind::Length) {
    char digits[24];
    const auto result = std::to_chars(digits, digits + sizeof digits, framing.length);
    head.set(http::field::content_length, std::string_view(digits, result.ptr - digits));
  } else if (framing.kind == BodyFraming::Kind::Chunked) {
    head.set(http::field::transfer_encoding, "chunked");
  }

  if (head.count(http::field::host) == 0 && !context.default_host.empty())
    head.set(http::field::host, context.default_host);

  // Several X-Forwarded-For lines are one list (RFC 9110 5.3); keep it one line.
  std::string forwarded_for;
  for (auto it = head.find(kForwardedFor);
       it != head.end() && boost::beast::iequals(it->name_string(), kForwardedFor); ++it) {
    forwarded_for += it->value();
    forwarded_for += ", ";
  }
  forwarded_for += context.client_ip;
  head.set(kForwardedFor, forwarded_for);
  head.set("X-Forwarded-Proto", context.proto);
  const auto host = head.find(http::field::host);
  if (host != head.end()) head.set("X-Forwarded-Host", host->value());
  head.version(11);
}

void rewrite_response(ResponseHead& head, const BodyFraming& to_client, bool keep_alive,
                      bool client_http10, bool upgrade) {
  remove_hop_by_hop(head, upgrade);
  if (upgrade) {
    head.set(http::field::connection, "upgrade");
  } else if (!keep_alive) {
    head.set(http::field::connection, "close");
  } else if (client_http10) {
    head.set(http::field::connection, "keep-alive");
  }
  if (to_client.kind == BodyFraming::Kind::Chunked)
    head.set(http::field::transfer_encoding, "chunked");
  head.version(11);
}

void append_origin_form(std::string_view target, std::string& out) {
  std::size_t authority = 0;
  if (boost::beast::iequals(target.substr(0, 7), "http://"))
    authority = 7;
  else if (boost::beast::iequals(target.substr(0, 8), "https://"))
    authority = 8;
  if (authority == 0) {
    out += target;
    return;
  }
  const std::size_t path = target.find_first_of("/?", authority);
  if (path == std::string_view::npos || target[path] == '?') out += '/';
  if (path != std::string_view::npos) out += target.substr(path);
}

void append_head(const RequestHead& head, std::string& out) {
  out += head.method_string();
  out += ' ';
  append_origin_form(head.target(), out);
  out += " HTTP/1.1\r\n";
  append_fields(head, out);
}

void append_head(const ResponseHead& head, std::string& out) {
  out += "HTTP/1.1 ";
  append_decimal(out, head.result_int());
  out += ' ';
  const std::string_view reason = head.reason();
  out += reason.empty() ? std::string_view(http::obsolete_reason(head.result())) : reason;
  out += "\r\n";
  append_fields(head, out);
}

void append_forwarded_request(const RequestHead& head, const ForwardedContext& context,
                              const BodyFraming& framing, bool upgrade, bool drop_expect,
                              std::string& out) {
  const HopByHop hop(head, upgrade);
  // What rewrite_request erases before it collects X-Forwarded-For.
  const auto gone = [&](const Fields::value_type& field) {
    return hop.drops(field) || field.name() == http::field::content_length ||
           (drop_expect && field.name() == http::field::expect) ||
           is_dropped_request_field(field.name_string(), context.allow_underscores);
  };
  const auto is_forwarded_for = [](const Fields::value_type& field) {
    return boost::beast::iequals(field.name_string(), kForwardedFor);
  };
  const Fields::value_type* host = nullptr;
  for (const auto& field : head) {
    if (field.name() == http::field::host && !gone(field)) {
      host = &field;
      break;
    }
  }
  const std::string_view host_value = host ? std::string_view(host->value()) : context.default_host;
  const bool sets_host = host != nullptr || !context.default_host.empty();

  out += head.method_string();
  out += ' ';
  append_origin_form(head.target(), out);
  out += " HTTP/1.1\r\n";
  for (const auto& field : head) {
    if (gone(field) || is_forwarded_for(field)) continue;
    if (boost::beast::iequals(field.name_string(), "X-Forwarded-Proto")) continue;
    if (sets_host && boost::beast::iequals(field.name_string(), "X-Forwarded-Host")) continue;
    append_field(out, field.name_string(), field.value());
  }
  if (upgrade) append_field(out, "Connection", "upgrade");
  if (framing.kind == BodyFraming::Kind::Length) {
    out += "Content-Length: ";
    append_decimal(out, framing.length);
    out += "\r\n";
  } else if (framing.kind == BodyFraming::Kind::Chunked) {
    append_field(out, "Transfer-Encoding", "chunked");
  }
  if (!host && !context.default_host.empty()) append_field(out, "Host", context.default_host);
  // Like rewrite_request: the run of X-Forwarded-For lines from the first one, then us.
  out += kForwardedFor;
  out += ": ";
  bool in_run = false;
  for (const auto& field : head) {
    if (gone(field)) continue;
    if (is_forwarded_for(field)) {
      in_run = true;
      out += field.value();
      out += ", ";
    } else if (in_run) {
      break;
    }
  }
  out += context.client_ip;
  out += "\r\n";
  append_field(out, "X-Forwarded-Proto", context.proto);
  if (sets_host) append_field(out, "X-Forwarded-Host", host_value);
  out += "\r\n";
}

void append_forwarded_response(const ResponseHeadParser& head, const BodyFraming& to_client,
                               bool keep_alive, bool client_http10, bool upgrade,
                               std::string& out) {
  const HopByHop hop(head, upgrade);
  out += "HTTP/1.1 ";
  append_decimal(out, head.result_int());
  out += ' ';
  const std::string_view reason = head.reason();
  out += reason.empty() ? std::string_view(http::obsolete_reason(head.result())) : reason;
  out += "\r\n";
  for (const ResponseField field : head)
    if (!hop.drops(field)) out += field.line();  // as the pod wrote it: one copy
  if (upgrade) {
    append_field(out, "Connection", "upgrade");
  } else if (!keep_alive) {
    append_field(out, "Connection", "close");
  } else if (client_http10) {
    append_field(out, "Connection", "keep-alive");
  }
  if (to_client.kind == BodyFraming::Kind::Chunked)
    append_field(out, "Transfer-Encoding", "chunked");
  out += "\r\n";
}

bool is_idempotent(http::verb method) {
  switch (method) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::put:
    case http::verb::delete_:
    case http::verb::options:
    case http::verb::trace:
      return true;
    default:
      return false;
  }
}

}  // namespace svcproxy::server
