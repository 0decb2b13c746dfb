"""The ``zkcheck`` command line: a click group; each command lives in zkcheck/commands/."""

from __future__ import annotations

import sys
import traceback

import click

from zkcheck.errors import InputError, InternalError

EXIT_OK, EXIT_VIOLATION, EXIT_USAGE, EXIT_INCOMPLETE, EXIT_INTERNAL = 0, 1, 2, 3, 4


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="zkcheck")
@click.option("--debug", is_flag=True, help="On an internal error, print the traceback.")
def cli(debug: bool) -> None:
    """Exhaustive state exploration of ZooKeeper's Fast Leader Election.

    Exit codes: 0 all properties hold in what was explored (and witnesses were found),
    1 a property is violated or a witness was not found, 2 bad usage or input,
    3 a bound stopped the search and --require-complete was given, 4 internal error (two
    analyses disagree, or zkcheck itself failed: not a verdict; details with --debug).
    """


def _register() -> None:
    from zkcheck.commands import check, conform, explore, logs, render, replay, simulate

    cli.add_command(conform.conform)
    cli.add_command(logs.logs)
    cli.add_command(explore.explore)
    cli.add_command(replay.replay)
    cli.add_command(render.render)
    cli.add_command(check.check)
    cli.add_command(simulate.simulate)
    try:  # commands contributed by later parts register here
        from zkcheck.commands import prove

        cli.add_command(prove.prove)
    except ImportError:
        pass


def main(argv: list[str] | None = None) -> int:
    """Entry point: bad usage or input becomes one line on stderr and exit code 2."""
    _register()
    args = sys.argv[1:] if argv is None else argv
    if not args:
        with click.Context(cli, info_name="zkcheck") as context:
            click.echo(cli.get_help(context))
        return EXIT_OK
    try:
        code = cli.main(args=args, prog_name="zkcheck", standalone_mode=False)
    except click.UsageError as exc:
        hint = f" (see 'zkcheck {exc.ctx.command_path.split(' ', 1)[-1]} --help')" if (
            exc.ctx and " " in exc.ctx.command_path) else " (see 'zkcheck --help')"
        click.echo(f"zkcheck: error: {exc.format_message()}{hint}", err=True)
        return EXIT_USAGE
    except (InputError, click.BadParameter, click.FileError) as exc:
        message = exc.format_message() if isinstance(exc, click.ClickException) else str(exc)
        click.echo(f"zkcheck: error: {message}", err=True)
        return EXIT_USAGE
    except click.exceptions.Abort:
        return 130
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - anything else is a zkcheck bug, not a verdict
        return _internal(exc, debug="--debug" in args)  # a group option: click checked it
    return code if isinstance(code, int) else EXIT_OK


def _internal(exc: Exception, *, debug: bool) -> int:
    """One line naming the problem (the traceback only with --debug); exit 4."""
    what = str(exc) if isinstance(exc, InternalError) else \
        f"unexpected {type(exc).__name__}: {exc}"
    if debug:
        traceback.print_exc()
    click.echo(f"zkcheck: internal error: {what.splitlines()[0] if what else ''} "
               "(not a verdict; rerun with 'zkcheck --debug' for details)", err=True)
    return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
