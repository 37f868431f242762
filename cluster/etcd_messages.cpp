#include "cluster/etcd_messages.hpp"

#include <boost/json.hpp>
#include <charconv>

#include "conf/base64.hpp"

namespace svcproxy::cluster {
namespace json = boost::json;

namespace {

std::string b64(std::string_view bytes) {
  return conf::encode_base64(bytes);
}

// An int64 as the gateway sends it: a string, or (from other encoders) a number; absent is 0.
std::int64_t int64_field(const json::object& object, std::string_view name) {
  const json::value* field = object.if_contains(name);
  if (!field) return 0;
  if (field->is_int64()) return field->as_int64();
  if (field->is_uint64()) return static_cast<std::int64_t>(field->as_uint64());
  if (const json::string* text = field->if_string()) {
    std::int64_t number = 0;
    std::from_chars(text->data(), text->data() + text->size(), number);
    return number;
  }
  return 0;
}

bool bool_field(const json::object& object, std::string_view name) {
  const json::value* field = object.if_contains(name);
  return field && field->is_bool() && field->as_bool();
}

std::optional<std::string> bytes_field(const json::object& object, std::string_view name) {
  const json::value* field = object.if_contains(name);
  if (!field) return std::string();
  const json::string* text = field->if_string();
  if (!text) return std::nullopt;
  return conf::decode_base64(std::string_view(*text));
}

const json::object* as_answer(const json::value& answer, std::string& error) {
  if (std::string failure = gateway_error(answer); !failure.empty()) {
    error = std::move(failure);
    return nullptr;
  }
  const json::object* object = answer.if_object();
  if (!object) error = "etcd answered something that is not a JSON object";
  return object;
}

std::optional<KeyValue> parse_kv(const json::value& value, std::string& error) {
  const json::object* object = value.if_object();
  if (!object) {
    error = "a key-value is not an object";
    return std::nullopt;
  }
  KeyValue kv;
  auto key = bytes_field(*object, "key");
  auto data = bytes_field(*object, "value");
  if (!key || !data) {
    error = "a key or value is not base64";
    return std::nullopt;
  }
  kv.key = std::move(*key);
  kv.value = std::move(*data);
  kv.create_revision = int64_field(*object, "create_revision");
  kv.mod_revision = int64_field(*object, "mod_revision");
  kv.version = int64_field(*object, "version");
  kv.lease = int64_field(*object, "lease");
  return kv;
}

std::optional<RangeResult> parse_range_object(const json::object& object, std::string& error) {
  RangeResult result;
  if (const json::value* header = object.if_contains("header"); header && header->is_object())
    result.revision = int64_field(header->as_object(), "revision");
  result.more = bool_field(object, "more");
  if (const json::value* kvs = object.if_contains("kvs")) {
    const json::array* items = kvs->if_array();
    if (!items) {
      error = "kvs is not an array";
      return std::nullopt;
    }
    result.kvs.reserve(items->size());
    for (const auto& item : *items) {
      auto kv = parse_kv(item, error);
      if (!kv) return std::nullopt;
      result.kvs.push_back(std::move(*kv));
    }
  }
  return result;
}

const char* target_name(Compare::Target target) {
  switch (target) {
    case Compare::Target::Version:
      return "VERSION";
    case Compare::Target::Create:
      return "CREATE";
    case Compare::Target::Mod:
      return "MOD";
    case Compare::Target::Value:
      return "VALUE";
  }
  return "VERSION";
}

const char* target_field(Compare::Target target) {
  switch (target) {
    case Compare::Target::Version:
      return "version";
    case Compare::Target::Create:
      return "create_revision";
    case Compare::Target::Mod:
      return "mod_revision";
    case Compare::Target::Value:
      return "value";
  }
  return "version";
}

json::object encode_operation(const Operation& operation) {
  json::object request{{"key", b64(operation.key)}};
  switch (operation.kind) {
    case Operation::Kind::Put:
      request["value"] = b64(operation.value);
      if (operation.lease != 0) request["lease"] = std::to_string(operation.lease);
      return {{"request_put", std::move(request)}};
    case Operation::Kind::Delete:
      return {{"request_delete_range", std::move(request)}};
    case Operation::Kind::Get:
      return {{"request_range", std::move(request)}};
  }
  return {};
}

json::array encode_operations(const std::vector<Operation>& operations) {
  json::array encoded;
  for (const auto& operation : operations)
    encoded.push_back(encode_operation(operation));
  return encoded;
}

}  // namespace

std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key: etcd's "\0" range end
}

std::string encode_range(std::string_view key, std::string_view range_end, std::int64_t limit,
                         std::int64_t revision, bool keys_only) {
  json::object request{{"key", b64(key)}};
  if (!range_end.empty()) request["range_end"] = b64(range_end);
  if (limit > 0) request["limit"] = std::to_string(limit);
  if (revision > 0) request["revision"] = std::to_string(revision);
  if (keys_only) request["keys_only"] = true;
  return json::serialize(request);
}

std::string encode_txn(const Txn& txn) {
  json::array compares;
  for (const auto& compare : txn.compare) {
    json::object encoded{
        {"key", b64(compare.key)}, {"target", target_name(compare.target)}, {"result", "EQUAL"}};
    if (compare.target == Compare::Target::Value)
      encoded["value"] = b64(compare.value);
    else
      encoded[target_field(compare.target)] = std::to_string(compare.number);
    compares.push_back(std::move(encoded));
  }
  return json::serialize(json::object{{"compare", std::move(compares)},
                                      {"success", encode_operations(txn.success)},
                                      {"failure", encode_operations(txn.failure)}});
}

std::string encode_delete_range(std::string_view key, std::string_view range_end) {
  json::object request{{"key", b64(key)}};
  if (!range_end.empty()) request["range_end"] = b64(range_end);
  return json::serialize(request);
}

std::string encode_watch_create(std::string_view key, std::string_view range_end,
                                std::int64_t start_revision) {
  json::object create{{"key", b64(key)}};
  if (!range_end.empty()) create["range_end"] = b64(range_end);
  if (start_revision > 0) create["start_revision"] = std::to_string(start_revision);
  return json::serialize(json::object{{"create_request", std::move(create)}});
}

std::string encode_lease_grant(std::int64_t ttl_seconds) {
  return json::serialize(json::object{{"TTL", std::to_string(ttl_seconds)}});
}

std::string encode_lease_id(std::int64_t id) {
  return json::serialize(json::object{{"ID", std::to_string(id)}});
}

std::string encode_compaction(std::int64_t revision) {
  return json::serialize(json::object{{"revision", std::to_string(revision)}});
}

std::string gateway_error(const json::value& answer) {
  const json::object* object = answer.if_object();
  if (!object) return {};
  // Unary calls answer {"error","code","message"}; a stream wraps it as {"error": {...}}.
  const json::object* failure = object;
  if (const json::value* inner = object->if_contains("error"); inner && inner->is_object())
    failure = &inner->as_object();
  else if (!object->contains("code") || object->contains("header") || object->contains("result"))
    return {};
  std::string text;
  if (const json::value* message = failure->if_contains("message"); message && message->is_string())
    text = std::string(message->as_string());
  else if (const json::value* error = failure->if_contains("error"); error && error->is_string())
    text = std::string(error->as_string());
  return (text.empty() ? std::string("etcd error") : text) + " (code " +
         std::to_string(int64_field(*failure, "code")) + ")";
}

std::int64_t header_revision(const json::value& answer) {
  const json::object* object = answer.if_object();
  if (!object) return 0;
  if (const json::value* result = object->if_contains("result"); result && result->is_object())
    object = &result->as_object();
  if (const json::value* header = object->if_contains("header"); header && header->is_object())
    return int64_field(header->as_object(), "revision");
  return 0;
}

std::optional<RangeResult> parse_range(const json::value& answer, std::string& error) {
  const json::object* object = as_answer(answer, error);
  if (!object) return std::nullopt;
  return parse_range_object(*object, error);
}

std::optional<TxnResult> parse_txn(const json::value& answer, std::string& error) {
  const json::object* object = as_answer(answer, error);
  if (!object) return std::nullopt;
  TxnResult result;
  result.succeeded = bool_field(*object, "succeeded");
  result.revision = header_revision(answer);
  if (const json::value* responses = object->if_contains("responses")) {
    const json::array* items = responses->if_array();
    if (!items) {
      error = "txn responses is not an array";
      return std::nullopt;
    }
    for (const auto& item : *items) {
      const json::object* response = item.if_object();
      if (!response) continue;
      const json::value* range = response->if_contains("response_range");
      if (!range || !range->is_object()) continue;
      auto parsed = parse_range_object(range->as_object(), error);
      if (!parsed) return std::nullopt;
      result.gets.push_back(std::move(*parsed));
    }
  }
  return result;
}

std::optional<WatchMessage> parse_watch_message(const json::value& message, std::string& error) {
  const json::object* outer = as_answer(message, error);
  if (!outer) return std::nullopt;
  const json::value* result = outer->if_contains("result");
  if (!result || !result->is_object()) {
    error = "a watch message without a result";
    return std::nullopt;
  }
  const json::object& object = result->as_object();
  WatchMessage parsed;
  parsed.revision = header_revision(message);
  parsed.created = bool_field(object, "created");
  parsed.canceled = bool_field(object, "canceled");
  parsed.compact_revision = int64_field(object, "compact_revision");
  if (const json::value* reason = object.if_contains("cancel_reason");
      reason && reason->is_string())
    parsed.cancel_reason = std::string(reason->as_string());
  if (const json::value* events = object.if_contains("events")) {
    const json::array* items = events->if_array();
    if (!items) {
      error = "watch events is not an array";
      return std::nullopt;
    }
    for (const auto& item : *items) {
      const json::object* event = item.if_object();
      const json::value* kv = event ? event->if_contains("kv") : nullptr;
      if (!kv) {
        error = "a watch event without kv";
        return std::nullopt;
      }
      WatchEvent parsed_event;
      const json::value* type = event->if_contains("type");
      // PUT is the enum's zero value, so the gateway leaves it out.
      parsed_event.type = type && type->is_string() && type->as_string() == "DELETE"
                              ? WatchEvent::Type::Delete
                              : WatchEvent::Type::Put;
      auto parsed_kv = parse_kv(*kv, error);
      if (!parsed_kv) return std::nullopt;
      parsed_event.kv = std::move(*parsed_kv);
      parsed.events.push_back(std::move(parsed_event));
    }
  }
  return parsed;
}

std::optional<LeaseGrant> parse_lease_grant(const json::value& answer, std::string& error) {
  const json::object* object = as_answer(answer, error);
  if (!object) return std::nullopt;
  LeaseGrant grant{int64_field(*object, "ID"), int64_field(*object, "TTL")};
  if (grant.id == 0) {
    std::string reason;
    if (const json::value* e = object->if_contains("error"); e && e->is_string())
      reason = std::string(e->as_string());
    error = "lease grant without an ID" + (reason.empty() ? "" : ": " + reason);
    return std::nullopt;
  }
  return grant;
}

std::optional<std::int64_t> parse_lease_keepalive(const json::value& answer, std::string& error) {
  const json::object* outer = as_answer(answer, error);
  if (!outer) return std::nullopt;
  const json::object* object = outer;
  if (const json::value* result = outer->if_contains("result"); result && result->is_object())
    object = &result->as_object();
  return int64_field(*object, "TTL");
}

}  // namespace svcproxy::cluster
