// SPDX-License-Identifier: Apache-2.0
#include "sipfast/proxy/request_context.hpp"

#include "sipfast/sip/parser.hpp"

namespace sipfast::proxy {

verdict request_context::refuse(sip::parse_error e, sip::header_id which) noexcept {
    sip::parse_result fault;
    fault.error = e;
    fault.header = which;
    return verdict::answer(sip::to_status_code(e), sip::format_reason(fault, reason_room));
}

} // namespace sipfast::proxy
