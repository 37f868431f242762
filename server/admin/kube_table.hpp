// kubectl's table (meta.k8s.io/v1 Table) for a list of API objects: the columns and cells
// Kubernetes' own server printers give each kind (pkg/printers/internalversion), computed
// from the very JSON objects the API answers with, so `kubectl get` and `-o yaml` cannot
// disagree. Pure.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "server/admin/admin_api.hpp"

namespace svcproxy::server {

// How long ago, as kubectl prints ages (k8s.io/apimachinery/pkg/util/duration.HumanDuration):
// "45s", "3m20s", "5h", "12d", "2y30d".
std::string human_duration(double seconds);

// Seconds since the epoch of an RFC 3339 time ("2026-12-03T08:00:00Z", fractions and
// offsets allowed); nullopt when it is not one.
std::optional<double> parse_rfc3339(std::string_view text);

// The Table of `items` (objects of `resource`); each row carries the object's metadata as
// a PartialObjectMetadata, from which kubectl adds NAMESPACE under -A.
boost::json::object table_json(ApiResource resource, const std::vector<boost::json::object>& items,
                               double now_unix_seconds);

}  // namespace svcproxy::server
