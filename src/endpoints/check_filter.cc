#include "endpoints/check_filter.h"

#include "endpoints/service_filter.h"

namespace pc::endpoints {

core::Result<filter::Expression> compile_health_check_filter(std::string_view text) {
  return service_filter::compile(text, service_filter::kHealthCheckLayout);
}

bool health_check_matches(const filter::Expression& expr, const state::HealthCheck& check) {
  return service_filter::matches(expr, {.check = &check});
}

}  // namespace pc::endpoints
