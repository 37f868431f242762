// GCC 12 reports a false mismatched-new-delete on Asio's awaitable frames in this file.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#include "server/admin/api_writes.hpp"

#include <boost/json.hpp>
#include <sstream>

#include "conf/loader.hpp"
#include "conf/manifest_json.hpp"
#include "conf/yaml_tree.hpp"
#include "server/admin/kube_json.hpp"
#include "server/admin/merge_patch.hpp"

namespace svcproxy::server {
namespace json = boost::json;
namespace http = boost::beast::http;
using boost::asio::awaitable;
using cluster::StoreOutcome;

namespace {

// A patch that keeps losing its compare-and-swap to other writers gives up after this,
// as kube-apiserver's GuaranteedUpdate retries a patch on a conflict.
constexpr int kPatchAttempts = 5;

std::string media_type(std::string_view content_type) {
  std::string type(content_type.substr(0, content_type.find(';')));
  while (!type.empty() && type.back() == ' ')
    type.pop_back();
  return type;
}

bool server_side_apply(const ApiWriteRequest& request) {
  return request.method == http::verb::patch &&
         media_type(request.content_type) == "application/apply-patch+yaml";
}

// "services" with its group, as the API names a resource in its messages.
std::string qualified_plural(ApiResource resource) {
  std::string name = resource_plural(resource);
  const std::string version = resource_api_version(resource);
  if (const auto slash = version.find('/'); slash != std::string::npos)
    name.append(1, '.').append(version, 0, slash);
  return name;
}

ApiAnswer status_answer(int code, const char* reason, std::string message,
                        json::object details = {}) {
  return {code, api_status(code, reason, std::move(message), std::move(details))};
}

ApiAnswer bad_request(std::string message) {
  return status_answer(400, "BadRequest", std::move(message));
}

json::object details_of(const ApiPath& path) {
  return {{"name", path.name}, {"kind", resource_plural(path.resource)}};
}

ApiAnswer not_found(const ApiPath& path) {
  return status_answer(404, "NotFound",
                       qualified_plural(path.resource) + " \"" + path.name + "\" not found",
                       details_of(path));
}

ApiAnswer conflict(const ApiPath& path) {
  return status_answer(409, "Conflict",
                       "Operation cannot be fulfilled on " + qualified_plural(path.resource) +
                           " \"" + path.name +
                           "\": the object has been modified; please apply your changes to the "
                           "latest version and try again",
                       details_of(path));
}

// The body as JSON: kubectl sends JSON, and server-side apply may send YAML.
std::optional<json::value> parse_body(const std::string& body, std::string& error) {
  boost::system::error_code failure;
  json::value value = json::parse(body, failure);
  if (!failure) return value;
  try {
    std::istringstream stream(body);
    conf::YamlTree tree(stream, body.size());
    if (tree.documents().size() == 1) return conf::to_json(tree.documents().front());
    error = "the body is not one JSON or YAML object";
  } catch (const std::exception& e) {
    error = std::string("the body is neither JSON nor YAML: ") + e.what();
  }
  return std::nullopt;
}

std::string text_at(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value && value->is_string() ? std::string(value->as_string()) : std::string();
}

json::object* metadata_of(json::object& object) {
  json::value& metadata = object["metadata"];
  if (!metadata.is_object()) metadata = json::object();
  return &metadata.as_object();
}

// The manifest a request carries, checked against its URL as kube-apiserver checks it.
std::optional<conf::ManifestObject> manifest_of(json::object body, const ApiPath& path,
                                                ApiAnswer& refused) {
  conf::ManifestObject object;
  object.api_version = text_at(body, "apiVersion");
  object.kind = text_at(body, "kind");
  if (object.kind != resource_kind(path.resource) ||
      object.api_version != resource_api_version(path.resource)) {
    refused = bad_request(
        "the object is " +
        (object.kind.empty() ? std::string("of no kind") : object.api_version + " " + object.kind) +
        "; " + qualified_plural(path.resource) + " take " + resource_api_version(path.resource) +
        " " + resource_kind(path.resource));
    return std::nullopt;
  }
  json::object& metadata = *metadata_of(body);
  object.name = text_at(metadata, "name");
  object.namespace_name = text_at(metadata, "namespace");
  if (object.namespace_name.empty()) object.namespace_name = path.namespace_name;
  if (object.namespace_name != path.namespace_name) {
    refused = bad_request(
        "the namespace of the provided object does not match the namespace sent on the request");
    return std::nullopt;
  }
  metadata["namespace"] = object.namespace_name;
  if (!path.name.empty() && object.name != path.name) {
    refused = bad_request("the name of the object (" + object.name +
                          ") does not match the name on the URL (" + path.name + ")");
    return std::nullopt;
  }
  if (object.name.empty()) {
    refused = status_answer(
        422, "Invalid",
        std::string(resource_kind(path.resource)) +
            " \"\" is invalid: metadata.name: Required value: name is required (svcproxy does "
            "not support generateName)",
        {{"kind", resource_kind(path.resource)},
         {"causes", json::array{json::object{{"reason", "FieldValueRequired"},
                                             {"message", "Required value: name is required"},
                                             {"field", "metadata.name"}}}}});
    return std::nullopt;
  }
  object.location = {
      std::string(resource_plural(path.resource)) + "/" + object.namespace_name + "/" + object.name,
      1, 1};
  object.json = std::move(body);
  return object;
}

ApiAnswer invalid(const conf::ManifestObject& object, const conf::Diagnostics& errors) {
  json::array causes;
  std::string summary;
  for (const auto& error : errors) {
    // The object's own errors are about its fields; another document's (a clash with one of
    // the node's files) say where that document is.
    const bool own = error.location.file == object.location.file;
    const std::string message = own ? error.message : error.to_string();
    causes.push_back({{"reason", "FieldValueInvalid"},
                      {"message", message},
                      {"field", own ? error.field_path : std::string()}});
    if (!summary.empty()) summary += ", ";
    summary += own && !error.field_path.empty() ? error.field_path + ": " + message : message;
  }
  if (errors.size() > 1) summary = "[" + summary + "]";
  return status_answer(
      422, "Invalid", object.kind + " \"" + object.name + "\" is invalid: " + summary,
      {{"name", object.name}, {"kind", object.kind}, {"causes", std::move(causes)}});
}

// What `svcproxy apply` checks before it writes: the loader's verdict on the object with the
// node's files, then explicit ClusterIPs and NodePorts another Service holds.
awaitable<std::optional<ApiAnswer>> validate(const conf::ManifestObject& object,
                                             const ApiWriteContext& context,
                                             std::vector<std::string>& warnings) {
  const std::string text = json::serialize(object.json);
  conf::LoadResult loaded = conf::load_files(context.config_paths, {{object.location.file, text}});
  for (const auto& warning : loaded.warnings)
    if (warning.location.file == object.location.file)
      warnings.push_back(warning.field_path.empty() ? warning.message
                                                    : warning.field_path + ": " + warning.message);
  if (!loaded.ok()) co_return invalid(object, loaded.errors);
  conf::ServiceList services;
  for (const auto& service : loaded.snapshot->services)
    if (service.location.file == object.location.file) services.push_back(service);
  conf::Diagnostics conflicts =
      co_await cluster::find_allocation_conflicts(context.store, context.settings, services);
  if (!conflicts.empty()) co_return invalid(object, conflicts);
  co_return std::nullopt;
}

// The stored object as the API returns it: its etcd revision as its resourceVersion.
json::object with_version(json::object stored, std::int64_t revision) {
  (*metadata_of(stored))["resourceVersion"] = std::to_string(revision);
  return stored;
}

ApiAnswer answer_report(const ApiPath& path, const conf::ManifestObject& object,
                        cluster::StoreReport report, std::vector<std::string> warnings) {
  switch (report.outcome) {
    case StoreOutcome::Created:
    case StoreOutcome::Configured:
    case StoreOutcome::Unchanged:
      return {report.outcome == StoreOutcome::Created ? 201 : 200,
              with_version(std::move(report.stored), report.revision), std::move(warnings)};
    case StoreOutcome::AlreadyExists:
      return status_answer(
          409, "AlreadyExists",
          qualified_plural(path.resource) + " \"" + object.name + "\" already exists",
          {{"name", object.name}, {"kind", resource_plural(path.resource)}});
    case StoreOutcome::Conflict:
      return conflict(path);
    case StoreOutcome::NotFound:
      return not_found(path);
    case StoreOutcome::Deleted:
      break;
    case StoreOutcome::Failed:
      if (report.error && !report.error->field_path.empty())
        return invalid(object, {*report.error});
      break;
  }
  // The store could not be reached or gave up: nothing was written.
  return status_answer(
      500, "InternalError",
      "Internal error occurred: " + (report.error ? report.error->message : report.line()));
}

struct StoredObject {
  json::object object;
  std::int64_t revision = 0;
};

// The object at the path's key; nullopt when absent, `error` set when etcd did not answer.
awaitable<std::optional<StoredObject>> read_stored(const ApiPath& path,
                                                   const ApiWriteContext& context,
                                                   std::string& error) {
  const auto kind = cluster::stored_kind(resource_kind(path.resource));
  const std::string key = context.settings.layout.object_key(*kind, path.namespace_name, path.name);
  auto read = co_await context.store.range(key, "");
  if (!read) {
    error = read.error;
    co_return std::nullopt;
  }
  if (read.value->kvs.empty()) co_return std::nullopt;
  boost::system::error_code failure;
  json::value value = json::parse(read.value->kvs.front().value, failure);
  if (failure || !value.is_object()) {
    error = key + " does not hold a JSON object";
    co_return std::nullopt;
  }
  co_return StoredObject{std::move(value.as_object()), read.value->kvs.front().mod_revision};
}

awaitable<ApiAnswer> write_object(const ApiPath& path, conf::ManifestObject object,
                                  const ApiWriteContext& context,
                                  cluster::WritePrecondition precondition) {
  std::vector<std::string> warnings;
  if (auto refused = co_await validate(object, context, warnings)) co_return std::move(*refused);
  auto report =
      co_await cluster::apply_object(context.store, context.settings, object, precondition);
  co_return answer_report(path, object, std::move(report), std::move(warnings));
}

std::int64_t revision_of(const json::object& object) {
  const json::value* metadata = object.if_contains("metadata");
  const json::value* version = metadata && metadata->is_object()
                                   ? metadata->as_object().if_contains("resourceVersion")
                                   : nullptr;
  if (!version || !version->is_string()) return 0;
  try {
    return std::stoll(std::string(version->as_string()));
  } catch (const std::exception&) {
    return -1;  // matches no revision: a version this server never gave out is a conflict
  }
}

// Status is the server's on an update, as kube-apiserver's PrepareForUpdate has it, for
// the kinds whose status the API computes (a Service's load balancer, a Deployment's
// counts); a Pod's status.podIP is what the user declares in svcproxy, so it is theirs.
void keep_stored_status(json::object& updated, const json::object& stored, ApiResource resource) {
  if (resource == ApiResource::Pods) return;
  if (const json::value* status = stored.if_contains("status"))
    updated["status"] = *status;
  else
    updated.erase("status");
}

std::string dns_name_of(const json::object& deployment) {
  const json::value* metadata = deployment.if_contains("metadata");
  const json::value* annotations = metadata && metadata->is_object()
                                       ? metadata->as_object().if_contains("annotations")
                                       : nullptr;
  return annotations && annotations->is_object()
             ? text_at(annotations->as_object(), "svcproxy.io/dns")
             : std::string();
}

// PATCH and PUT of deployments/NAME/scale: spec.replicas of the Deployment.
awaitable<ApiAnswer> write_scale(const ApiWriteRequest& request, const ApiWriteContext& context) {
  const ApiPath& path = request.path;
  std::string parse_error;
  const auto body = parse_body(request.body, parse_error);
  if (!body) co_return bad_request(parse_error);
  for (int attempt = 0; attempt < kPatchAttempts; ++attempt) {
    std::string error;
    auto stored = co_await read_stored(path, context, error);
    if (!error.empty()) co_return status_answer(500, "InternalError", error);
    if (!stored) co_return not_found(path);
    json::object scale = scale_json(with_version(stored->object, stored->revision));
    std::int64_t wanted_revision = 0;
    if (request.method == http::verb::put) {
      if (!body->is_object()) co_return bad_request("a Scale object is expected");
      wanted_revision = revision_of(body->as_object());
      scale = body->as_object();
    } else {
      const auto type = patch_type(request.content_type);
      if (!type)
        co_return status_answer(415, "UnsupportedMediaType",
                                "the scale subresource takes a merge, strategic or JSON patch");
      auto patched = apply_patch(scale, *body, *type, "Scale");
      if (!patched.object) co_return bad_request(patched.error);
      scale = std::move(*patched.object);
    }
    const json::value* spec = scale.if_contains("spec");
    const json::value* replicas =
        spec && spec->is_object() ? spec->as_object().if_contains("replicas") : nullptr;
    if (!replicas || !replicas->is_int64())
      co_return status_answer(
          422, "Invalid", "Scale \"" + path.name + "\" is invalid: spec.replicas: Required value",
          {{"name", path.name},
           {"kind", "Scale"},
           {"causes", json::array{json::object{{"reason", "FieldValueRequired"},
                                               {"message", "Required value"},
                                               {"field", "spec.replicas"}}}}});
    json::object deployment = stored->object;
    json::value& deployment_spec = deployment["spec"];
    if (!deployment_spec.is_object()) deployment_spec = json::object();
    deployment_spec.as_object()["replicas"] = replicas->as_int64();
    ApiAnswer refused;
    auto object = manifest_of(std::move(deployment), path, refused);
    if (!object) co_return refused;
    std::vector<std::string> warnings;
    if (auto invalid_answer = co_await validate(*object, context, warnings))
      co_return std::move(*invalid_answer);
    // svcproxy starts no pods: say what spec.replicas does here instead.
    const std::string dns_name = dns_name_of(object->json);
    warnings.push_back(
        dns_name.empty()
            ? "svcproxy runs no pods: spec.replicas is the count the Deployment's READY column "
              "compares with; add or delete Pod objects to change its endpoints"
            : "deployment " + path.name + " is backed by DNS (svcproxy.io/dns: " + dns_name +
                  "): its pods are the addresses that name resolves to, so scale them where "
                  "they run (docker-compose up --scale); spec.replicas is only compared with "
                  "that count");
    auto report =
        co_await cluster::apply_object(context.store, context.settings, *object,
                                       {cluster::WritePrecondition::Exists::Present,
                                        wanted_revision != 0 ? wanted_revision : stored->revision});
    if (report.outcome == StoreOutcome::Conflict && wanted_revision == 0) continue;
    ApiAnswer answer = answer_report(path, *object, std::move(report), std::move(warnings));
    if (answer.status == 200) answer.body = scale_json(answer.body.as_object());
    co_return answer;
  }
  co_return conflict(path);
}

// PATCH: the stored object, patched, written back at the revision it was read at (read
// again and patched again when another writer came first).
awaitable<ApiAnswer> write_patch(const ApiWriteRequest& request, const json::value& body,
                                 const ApiWriteContext& context) {
  const ApiPath& path = request.path;
  const bool applying = server_side_apply(request);
  const auto type = patch_type(request.content_type);
  if (!applying && !type)
    co_return status_answer(415, "UnsupportedMediaType",
                            "the body of a PATCH must be a merge, strategic, JSON or apply patch, "
                            "not " +
                                media_type(request.content_type));
  for (int attempt = 0; attempt < kPatchAttempts; ++attempt) {
    std::string error;
    auto stored = co_await read_stored(path, context, error);
    if (!error.empty()) co_return status_answer(500, "InternalError", error);
    if (!stored && !applying) co_return not_found(path);
    json::object updated;
    if (applying) {
      if (!body.is_object()) co_return bad_request("an apply patch is one object");
      updated = body.as_object();
    } else {
      auto patched = apply_patch(stored->object, body, *type, resource_kind(path.resource));
      if (!patched.object)
        co_return patched.field.empty() ? bad_request(patched.error)
                                        : bad_request(patched.field + ": " + patched.error);
      updated = std::move(*patched.object);
      keep_stored_status(updated, stored->object, path.resource);
    }
    ApiAnswer refused;
    auto object = manifest_of(std::move(updated), path, refused);
    if (!object) co_return refused;
    using Exists = cluster::WritePrecondition::Exists;
    const cluster::WritePrecondition precondition =
        stored ? cluster::WritePrecondition{Exists::Present, stored->revision}
               : cluster::WritePrecondition{Exists::Absent, 0};
    ApiAnswer answer = co_await write_object(path, std::move(*object), context, precondition);
    // Someone wrote in between: patch what they wrote.
    const bool raced = answer.status == 409 || (answer.status == 404 && stored);
    if (!raced) co_return answer;
  }
  co_return conflict(path);
}

awaitable<ApiAnswer> delete_stored(const ApiWriteRequest& request, const ApiWriteContext& context) {
  const ApiPath& path = request.path;
  std::int64_t revision = 0;
  if (!request.body.empty()) {
    // DeleteOptions: only a resourceVersion precondition changes what a delete does here.
    boost::system::error_code failure;
    const json::value options = json::parse(request.body, failure);
    const json::value* preconditions = !failure && options.is_object()
                                           ? options.as_object().if_contains("preconditions")
                                           : nullptr;
    if (preconditions && preconditions->is_object()) {
      const std::string version = text_at(preconditions->as_object(), "resourceVersion");
      if (!version.empty())
        revision = revision_of(json::object{{"metadata", {{"resourceVersion", version}}}});
    }
  }
  conf::ManifestObject object;
  object.kind = resource_kind(path.resource);
  object.api_version = resource_api_version(path.resource);
  object.namespace_name = path.namespace_name;
  object.name = path.name;
  object.location = {qualified_plural(path.resource) + "/" + path.namespace_name + "/" + path.name,
                     1, 1};
  auto report = co_await cluster::delete_object(context.store, context.settings, object, revision);
  if (report.outcome == StoreOutcome::Deleted)
    co_return ApiAnswer{200, json::object{{"kind", "Status"},
                                          {"apiVersion", "v1"},
                                          {"metadata", json::object{}},
                                          {"status", "Success"},
                                          {"details", details_of(path)}}};
  co_return answer_report(path, object, std::move(report), {});
}

bool stored_resource(ApiResource resource) {
  return resource == ApiResource::Services || resource == ApiResource::Pods ||
         resource == ApiResource::Deployments;
}

}  // namespace

awaitable<ApiAnswer> answer_write(ApiWriteRequest request, const ApiWriteContext& context) {
  const ApiPath& path = request.path;
  if (request.query.find("dryRun=") != std::string::npos)
    co_return bad_request("svcproxy does not support dryRun: nothing was written");
  if (path.resource == ApiResource::Namespaces && request.method == http::verb::post) {
    // Namespaces are implicit here: one exists while objects are in it.
    std::string error;
    const auto body = parse_body(request.body, error);
    const json::object* object = body && body->is_object() ? &body->as_object() : nullptr;
    const json::value* metadata = object ? object->if_contains("metadata") : nullptr;
    const std::string name =
        metadata && metadata->is_object() ? text_at(metadata->as_object(), "name") : "";
    if (name.empty()) co_return bad_request("a Namespace needs metadata.name");
    co_return ApiAnswer{201,
                        namespace_json(name),
                        {"svcproxy keeps no Namespace objects: namespace " + name +
                         " exists while objects are in it"}};
  }
  if (!stored_resource(path.resource))
    co_return status_answer(
        405, "MethodNotAllowed",
        std::string(resource_plural(path.resource)) +
            " are derived by svcproxy (from Services, Pods and its nodes): write those instead");
  if (!path.subresource.empty()) {
    if (request.method == http::verb::put || request.method == http::verb::patch)
      co_return co_await write_scale(request, context);
    co_return status_answer(405, "MethodNotAllowed",
                            "the scale subresource takes GET, PUT and PATCH");
  }
  const bool named = !path.name.empty();
  if (path.namespace_name.empty())
    co_return bad_request("writes name a namespace: /api/v1/namespaces/NAMESPACE/...");
  switch (request.method) {
    case http::verb::post: {
      if (named) break;
      std::string error;
      auto body = parse_body(request.body, error);
      if (!body || !body->is_object())
        co_return bad_request(body ? "the body is not an object" : error);
      ApiAnswer refused;
      auto object = manifest_of(std::move(body->as_object()), path, refused);
      if (!object) co_return refused;
      co_return co_await write_object(path, std::move(*object), context,
                                      {cluster::WritePrecondition::Exists::Absent, 0});
    }
    case http::verb::put: {
      if (!named) break;
      std::string error;
      auto body = parse_body(request.body, error);
      if (!body || !body->is_object())
        co_return bad_request(body ? "the body is not an object" : error);
      const std::int64_t revision = revision_of(body->as_object());
      std::string read_error;
      auto stored = co_await read_stored(path, context, read_error);
      if (!read_error.empty()) co_return status_answer(500, "InternalError", read_error);
      if (!stored) co_return not_found(path);
      json::object updated = std::move(body->as_object());
      keep_stored_status(updated, stored->object, path.resource);
      ApiAnswer refused;
      auto object = manifest_of(std::move(updated), path, refused);
      if (!object) co_return refused;
      co_return co_await write_object(path, std::move(*object), context,
                                      {cluster::WritePrecondition::Exists::Present, revision});
    }
    case http::verb::patch: {
      if (!named) break;
      std::string error;
      auto body = parse_body(request.body, error);
      if (!body) co_return bad_request(error);
      co_return co_await write_patch(request, *body, context);
    }
    case http::verb::delete_: {
      if (!named) break;
      co_return co_await delete_stored(request, context);
    }
    default:
      break;
  }
  co_return status_answer(405, "MethodNotAllowed",
                          std::string(http::to_string(request.method)) + " is not allowed on " +
                              (named ? "an object" : "a list") + " of " +
                              resource_plural(path.resource));
}

}  // namespace svcproxy::server
