// Fuzz target for completing an answer another process sent (host_completion.h): the first
// byte picks the transport and the settings, the rest is the answer as it came off the wire.
// Whatever decodes must complete without a crash: with nothing known only the hosts are named
// (no record is added), with every named host known none is left to ask for, and the result
// encodes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/assert.h"
#include "dns/host_completion.h"
#include "dns/wire/message.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t flags = data[0];
  auto answer = pc::dns::wire::decode(std::span<const std::uint8_t>(data + 1, size - 1));
  if (!answer) return 0;
  pc::dns::ResolverConfig config;
  config.recursion_available = (flags & 1) != 0;
  if ((flags & 2) != 0) config.alt_domain = "alt.test.";
  config.udp_answer_limit = flags >> 4;
  const bool udp = (flags & 4) != 0;
  // The question the answer is for, as the client asked it.
  pc::dns::wire::Message query;
  query.header.id = answer->header.id;
  query.questions = answer->questions;
  query.edns = answer->edns;

  pc::dns::Resolution first = pc::dns::complete_hosts(query, *answer, config, nullptr, udp);
  PC_ASSERT(first.response.answers.size() <= answer->answers.size(), "records added unasked");
  PC_ASSERT(first.response.additional.size() <= answer->additional.size(), "records added unasked");
  PC_ASSERT(config.recursion_available || first.external_names.empty(), "asked without recursors");
  PC_ASSERT(std::is_sorted(first.external_names.begin(), first.external_names.end()),
            "host names out of order");

  // The recursors answer every host with the answer's own records.
  pc::dns::ExternalRecords found;
  for (const auto& name : first.external_names) found[name] = answer->answers;
  pc::dns::Resolution second = pc::dns::complete_hosts(query, *answer, config, &found, udp);
  PC_ASSERT(second.external_names.empty(), "a known host asked for again");
  auto encoded = pc::dns::wire::encode(second.response, pc::dns::wire::kMaxMessageSize);
  PC_ASSERT(encoded.has_value(), "a completed answer does not encode: {}", encoded.error().message);
  return 0;
}
