#include "endpoints/node_filter.h"

#include "endpoints/service_filter.h"

namespace pc::endpoints {

core::Result<filter::Expression> compile_node_filter(std::string_view text) {
  return service_filter::compile(text, service_filter::kNodeLayout);
}

bool node_matches(const filter::Expression& expr, const state::Node& node) {
  return service_filter::matches(expr, {.node = &node});
}

core::Result<filter::Expression> compile_node_service_filter(std::string_view text) {
  return service_filter::compile(text, service_filter::kNodeServiceLayout);
}

bool node_service_matches(const filter::Expression& expr, const state::Service& service) {
  return service_filter::matches(expr, {.service = &service});
}

}  // namespace pc::endpoints
