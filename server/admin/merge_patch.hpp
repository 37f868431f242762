// What a PATCH body does to a stored API object, as kube-apiserver applies the three patch
// types kubectl sends: JSON merge patch (RFC 7386, `kubectl patch --type merge`), JSON patch
// (RFC 6902, `--type json`) and strategic merge patch (`kubectl apply`, `kubectl edit` and
// plain `kubectl patch`), the Kubernetes dialect of merge patch in which lists of objects
// merge element by element, matched by a merge key the API types declare per field, and
// directives ($patch, $retainKeys, $setElementOrder/, $deleteFromPrimitiveList/) steer the
// merge. Semantics follow k8s.io/apimachinery/pkg/util/strategicpatch (patch.go) for
// applying a patch, including its element order rules, since kubectl computes its patches
// against them. Server-side apply (application/apply-patch+yaml) is not a patch of these
// kinds and is handled elsewhere. Pure: no I/O, and no input makes it throw.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace svcproxy::server {

enum class PatchType { Merge, StrategicMerge, Json };

// From the request's Content-Type: application/merge-patch+json,
// application/strategic-merge-patch+json or application/json-patch+json (parameters such
// as "; charset=utf-8" ignored, case-insensitive); nullopt for anything else, server-side
// apply's application/apply-patch+yaml included.
std::optional<PatchType> patch_type(std::string_view content_type);

struct PatchOutcome {
  std::optional<boost::json::object> object;  // the patched object; nullopt on error
  std::string error;                          // why, as a user reads it
  std::string field;  // the field path the error is about ("spec.ports[1]"), may be empty
};

// `target` patched by `patch`. `kind` is the object's kind ("Service", "Pod", "Deployment",
// "Secret", "Endpoints", ...): it picks the strategic merge keys; a kind without lists of
// its own (Secret, Endpoints, Scale) still merges metadata's finalizers and
// ownerReferences. A merge or strategic patch must be an object and a JSON patch an array;
// anything else, and any operation that fails, is an error with no object (never a part of
// the patch applied).
PatchOutcome apply_patch(const boost::json::object& target, const boost::json::value& patch,
                         PatchType type, std::string_view kind);

}  // namespace svcproxy::server
