// SPDX-License-Identifier: Apache-2.0
// sipfastctl: talks to a running sipfastd over its control socket
// (docs/architecture.md, "Operations"): stats, routes, reload, shutdown, version. The socket path
// comes from --socket, else from the daemon's config (--config, else the embedded default).
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "cli_parse.hpp"

#include "sipfast/daemon/daemon_config.hpp"
#include "sipfast/ops/ops_server.hpp"

#ifndef SIPFAST_VERSION
#define SIPFAST_VERSION "unknown"
#endif

int main(int argc, char** argv) {
    using namespace sipfast;
    CLI::App app{"sipfastctl: control a running sipfastd"};
    app.name("sipfastctl");
    std::string socket, config_file;
    bool json = false;
    app.add_option("--socket", socket, "the daemon's control socket (default: control_socket of its config)");
    app.add_option("--config", config_file, "the daemon's configuration file, to find its control socket");
    app.require_subcommand(1);
    CLI::App* stats = app.add_subcommand("stats", "counters with rates since the last call, latency quantiles");
    stats->add_flag("--json", json, "as JSON");
    app.add_subcommand("routes", "the domains, static routes and locations in force");
    app.add_subcommand("reload", "re-read the configuration (as SIGHUP); prints what was loaded or why not");
    app.add_subcommand("shutdown", "drain and stop (as SIGTERM)");
    app.add_subcommand("version", "the daemon's version");
    app.set_version_flag("--version", std::string("sipfastctl ") + SIPFAST_VERSION);
    if (const auto status = cli::parse_command_line(app, argc, argv, "sipfastctl")) return *status;

    if (socket.empty()) {
        daemon::command_line cli;
        cli.config_file = config_file;
        daemon::daemon_config cfg;
        std::string source;
        if (const std::string err = daemon::load_with_command_line(cli, cfg, source); !err.empty()) {
            std::cerr << "sipfastctl: " << err << '\n';
            return 2;
        }
        socket = cfg.control_socket;
        if (socket.empty()) {
            std::cerr << "sipfastctl: " << source << " turns the control socket off (control_socket = \"\")\n";
            return 2;
        }
    }
    const std::string command = app.get_subcommands().front()->get_name() + (json ? " --json" : "");
    try {
        const std::string answer = ops::send_command(socket, command);
        std::cout << answer;
        return answer.rfind("error:", 0) == 0 ? 1 : 0;
    } catch (const std::exception& e) {
        std::cerr << "sipfastctl: " << e.what() << '\n';
        return 1;
    }
}
