// SPDX-License-Identifier: Apache-2.0
#include "sipfast/proxy/stages/local_services.hpp"

namespace sipfast::proxy {

namespace {

constexpr std::string_view allow_lines =
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, SUBSCRIBE, NOTIFY, MESSAGE, INFO, PRACK, UPDATE, REFER\r\n"
    "Accept: application/sdp\r\n";

} // namespace

bool is_options_to_us(const request_context& ctx) noexcept {
    return ctx.m.method == sip::method::options && ctx.ruri_is_us && ctx.target.user.empty();
}

verdict answer_options() noexcept { return verdict::answer(200, "OK", allow_lines); }

verdict serve_locally(request_context& ctx) noexcept {
    if (is_options_to_us(ctx) && !ctx.have_next_route) return answer_options();
    return verdict::next();
}

} // namespace sipfast::proxy
