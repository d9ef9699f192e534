"""Plugins: discovery through entry points, explicit registration, and the documented hooks."""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

import experiments
from experiments import PluginError, Plugins, StoreError, ValidationError, hookspecs
from experiments._announced import ENTRY_POINT_GROUP, may_announce
from experiments.errors import StoreURLError
from experiments.plugins import BUILTIN_PLUGINS, BackendInfo
from experiments.stores import connect
from experiments.stores._openers import BUILTIN_BACKENDS, REGISTERED_BY
from fake_plugins import fake_distribution

DOCS = Path(__file__).parents[1] / "docs"


def hookspec_names() -> list[str]:
    return [
        name
        for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(function, "experiments_spec")
    ]


class TestHookDocumentation:
    """Every hook is typed, explained, and documented in docs/plugins.md."""

    @pytest.mark.parametrize("name", hookspec_names())
    def test_hook_is_documented(self, name: str) -> None:
        """The hook's docstring says when it is called, and the docs page shows it."""
        function = getattr(hookspecs, name)
        assert function.__doc__, f"{name} has no docstring"
        assert len(function.__doc__.split()) >= 20, f"{name}'s docstring says too little"
        hints = inspect.get_annotations(function)
        assert "return" in hints
        assert all(arg in hints for arg in inspect.signature(function).parameters)
        assert f"experiments.hookspecs.{name}" in (DOCS / "plugins.md").read_text()

    def test_there_are_hooks(self) -> None:
        """The list checked above is not empty by accident."""
        assert {"register_backends", "register_checks", "object_saved"} <= set(hookspec_names())


class TestBuiltins:
    """The built-in parts: registered like plugins, each module imported when it is needed."""

    @pytest.mark.parametrize("module_name", sorted(BUILTIN_PLUGINS))
    def test_the_table_names_the_one_hook_of_each_part(self, module_name: str) -> None:
        """Each built-in module implements exactly the hook the table names, plainly."""
        module = importlib.import_module(module_name)
        implemented = {
            name: value.experiments_impl
            for name, value in vars(module).items()
            if callable(value) and hasattr(value, "experiments_impl")
        }
        assert list(implemented) == [BUILTIN_PLUGINS[module_name]]
        options = next(iter(implemented.values()))
        assert not any(options.get(o) for o in ("wrapper", "hookwrapper", "tryfirst", "trylast"))

    def test_a_part_is_imported_when_its_hook_is_called(self) -> None:
        """Opening plugins imports no check; asking for the checks imports them."""
        done = subprocess.run(
            [sys.executable, "-c", _IMPORTS_OF_CHECKS],
            capture_output=True,
            text=True,
            check=True,
        )
        assert done.stdout.split() == ["False", "True", "True"]


_IMPORTS_OF_CHECKS = """
import sys
from experiments import Plugins
plugins = Plugins(autoload=False)
print("experiments.checks.builtin" in sys.modules)
print("think-big/no-objective" in plugins.checks())
print("experiments.checks.builtin" in sys.modules)
"""


class TestAnnounced:
    """The cheap look for distributions announcing an entry point group."""

    def test_a_dist_info_announcing_the_group_is_found(self, tmp_path: Path) -> None:
        """A distribution whose entry_points.txt has the group's section is found."""
        fake_distribution(tmp_path, "scratch-store", "scratch_store", "")
        assert may_announce("experiments", [str(tmp_path)])
        assert not may_announce("other", [str(tmp_path)])

    @pytest.mark.parametrize(
        "where", ["legacy-1.0.egg-info", "Legacy-1.0.EGG-INFO", "legacy-1.0.egg/EGG-INFO"]
    )
    def test_egg_info_and_eggs_are_looked_into(self, tmp_path: Path, where: str) -> None:
        """Older installs, egg-info directories and eggs, are found as importlib finds them."""
        info = tmp_path / where
        info.mkdir(parents=True)
        (info / "entry_points.txt").write_text("[console_scripts]\nx = y\n\n [experiments] \n")
        assert may_announce("experiments", [str(tmp_path)])

    def test_nothing_announced_is_nothing_found(self, tmp_path: Path) -> None:
        """Distributions without entry points, or with other groups', announce nothing."""
        (tmp_path / "plain-1.0.dist-info").mkdir()
        other = tmp_path / "tool-1.0.dist-info"
        other.mkdir()
        (other / "entry_points.txt").write_text("[console_scripts]\nexperiments = tool:main\n")
        (tmp_path / "module.py").write_text("")
        missing = tmp_path / "missing"
        assert not may_announce("experiments", [str(tmp_path), str(missing)])

    def test_a_distribution_installed_after_an_answer_is_found(self, tmp_path: Path) -> None:
        """The answer kept for a path is asked again once a directory on it changes."""
        assert not may_announce("experiments", [str(tmp_path)])
        fake_distribution(tmp_path, "later-store", "later_store", "")
        assert may_announce("experiments", [str(tmp_path)])

    def test_a_zip_file_on_the_path_is_left_to_importlib(self, tmp_path: Path) -> None:
        """A zip file may hold distributions: the answer is "maybe", and importlib decides."""
        archive = tmp_path / "bundle.zip"
        with zipfile.ZipFile(archive, "w") as bundle:
            bundle.writestr("plain.py", "")
        assert may_announce("experiments", [str(archive)])

    def test_another_finder_of_distributions_is_left_to_importlib(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A finder of distributions on sys.meta_path may know of more: "maybe"."""

        class Finder:
            @staticmethod
            def find_distributions(*args: object, **kwargs: object) -> list[object]:
                return []

        monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, Finder()])
        assert may_announce("experiments", [str(tmp_path)])


class TestDiscovery:
    """Entry points, the switch that turns them off, and broken plugins."""

    def test_entry_point_backend_is_found(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A backend announced by an installed package opens by its scheme with no code change."""
        fake_distribution(
            tmp_path,
            "scratch-store",
            "scratch_store",
            """
            import experiments
            from experiments.stores.memory import MemoryStore

            @experiments.hookimpl
            def register_backends(register):
                register("scratch", lambda url, *, plugins, create: MemoryStore(url))
            """,
        )
        monkeypatch.syspath_prepend(str(tmp_path))
        monkeypatch.delenv("EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD", raising=False)
        with connect("scratch://") as store:
            saved = store.save(experiments.Objective(title="Found by entry point"))
            assert store.get(saved.id) == saved
        info = {p.name: p for p in Plugins().plugins()}
        assert info["scratch-store"].source == "entry point"
        assert info["scratch-store"].distribution == "scratch-store"
        assert Plugins().backends()["scratch"].plugin == "scratch-store"

    def test_autoload_can_be_switched_off(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD=1 keeps installed plugins out."""
        fake_distribution(
            tmp_path,
            "noisy",
            "noisy_plugin",
            """
            import experiments

            @experiments.hookimpl
            def register_backends(register):
                register("noisy", lambda url, *, plugins, create: None)
            """,
        )
        monkeypatch.syspath_prepend(str(tmp_path))
        monkeypatch.setenv("EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD", "1")
        assert "noisy" not in Plugins().backends()
        monkeypatch.setenv("EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD", "0")
        assert "noisy" in Plugins().backends()
        assert "noisy" not in Plugins(autoload=False).backends()

    def test_plugin_that_fails_to_import_is_named(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A broken plugin gives a PluginError naming it and its distribution."""
        fake_distribution(
            tmp_path, "broken-plugin", "broken_plugin", "import not_a_module_at_all\n"
        )
        monkeypatch.syspath_prepend(str(tmp_path))
        monkeypatch.delenv("EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD", raising=False)
        with pytest.raises(
            PluginError, match=r"'broken-plugin' \(from broken-plugin 1.0\)"
        ) as info:
            Plugins()
        assert "EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD" in str(info.value)

    def test_misspelt_hook_is_refused(self) -> None:
        """Implementing a hook that does not exist is an error, not silence."""

        class Typo:
            @experiments.hookimpl
            def register_backend(self, register: object) -> None:  # missing "s"
                pass

        with pytest.raises(PluginError, match="register_backend"):
            Plugins(autoload=False, plugins=[Typo()])

    def test_nothing_is_discovered_at_import(self) -> None:
        """Importing the library loads neither plugins nor stores, SQL or Jinja2."""
        code = (
            "import sys, experiments; "
            "print(sorted(m for m in ('pluggy', 'sqlite3', 'jinja2', 'click', "
            "'experiments.plugins', 'experiments.stores', 'importlib.metadata') "
            "if m in sys.modules))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        assert out.strip() == "[]"

    def test_duplicate_scheme_is_refused(self) -> None:
        """Two plugins cannot both own a URL scheme."""

        class Second:
            @experiments.hookimpl
            def register_backends(self, register: object) -> None:
                register("sqlite", lambda url, *, plugins, create: None)  # type: ignore[operator]

        with pytest.raises(PluginError, match="registered by both"):
            Plugins(autoload=False, plugins=[Second()]).backends()


class TestBuiltinBackends:
    """With no installed plugin to load, a store opens without the plugin manager."""

    def test_the_table_is_what_the_hook_registers(self) -> None:
        """The openers connect uses directly are the backends the built-in part registers."""
        registered = Plugins(autoload=False).backends()
        assert registered == {
            scheme: BackendInfo(scheme, opener, REGISTERED_BY, description)
            for scheme, (opener, description) in BUILTIN_BACKENDS.items()
        }

    @pytest.mark.parametrize("switch", ["1", ""], ids=["autoload-off", "nothing-announced"])
    def test_opening_imports_no_plugin_manager(self, tmp_path: Path, switch: str) -> None:
        """The store reads, and its plugins are the built-in parts, made on first use."""
        if not switch and may_announce(ENTRY_POINT_GROUP):
            pytest.skip("a distribution installed here announces a plugin, which may load")
        done = subprocess.run(
            [sys.executable, "-c", _OPENING_WITHOUT_MANAGER, str(tmp_path / "p.db")],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD": switch},
        )
        assert done.stdout.split() == [
            "False",
            "0",
            "False",
            "experiments.checks.builtin,experiments.reports.builtin,experiments.stores.builtin",
            "True",
        ]

    def test_an_unknown_scheme_is_told_the_same_way(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without plugins given, the error names the same backends as with the built-in parts."""
        monkeypatch.setenv("EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD", "1")
        with pytest.raises(StoreURLError) as alone:
            connect("mongodb://localhost/x")
        with pytest.raises(StoreURLError) as managed:
            connect("mongodb://localhost/x", plugins=Plugins(autoload=False))
        assert str(alone.value) == str(managed.value)
        assert "installed: files, memory, postgres, postgresql, sqlite;" in str(alone.value)

    def test_an_installed_plugin_still_hears_the_writes(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """When an installed plugin announces itself, a store opened without plugins calls it."""
        fake_distribution(
            tmp_path,
            "saved-log",
            "saved_log",
            """
            import experiments

            SAVED = []

            @experiments.hookimpl
            def object_saved(record):
                SAVED.append(record.title)
            """,
        )
        monkeypatch.syspath_prepend(str(tmp_path))
        monkeypatch.delenv("EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD", raising=False)
        with connect(f"sqlite:///{tmp_path / 'p.db'}", create=True) as store:
            store.save(experiments.Objective(title="Heard"))
        assert importlib.import_module("saved_log").SAVED == ["Heard"]


_OPENING_WITHOUT_MANAGER = """
import sys
import experiments
with experiments.connect(f"sqlite:///{sys.argv[1]}", create=True) as store:
    print("pluggy" in sys.modules)
    print(store.count(experiments.Objective))
    print("pluggy" in sys.modules)
    print(",".join(sorted(p.name for p in store.plugins.plugins())))
    print("pluggy" in sys.modules)
"""


class TestConnect:
    """Choosing a store from a URL, the environment or the default."""

    def test_unknown_scheme_lists_the_installed_ones(self, plugins: Plugins) -> None:
        """The error names what is installed and how to get more."""
        with pytest.raises(StoreError, match=r"installed: .*memory.*sqlite") as info:
            connect("mongodb://localhost/x", plugins=plugins)
        assert "plugin" in str(info.value)

    @pytest.mark.parametrize(
        "url",
        ["experiments.db", "sqlite:///x.db?cache=big", "mongodb://host/x", "sqlite:///\ud800.db"],
    )
    def test_a_malformed_url_is_bad_input(self, url: str, plugins: Plugins) -> None:
        """A URL that cannot be right is a StoreURLError: a StoreError and a ValidationError."""
        with pytest.raises(StoreURLError) as info:
            connect(url, plugins=plugins)
        assert isinstance(info.value, StoreError)
        assert isinstance(info.value, ValidationError)

    def test_errors_say_the_url_came_from_the_environment(
        self, monkeypatch: pytest.MonkeyPatch, plugins: Plugins
    ) -> None:
        """Without a URL given, an error opening the store names EXPERIMENTS_STORE, once."""
        monkeypatch.setenv("EXPERIMENTS_STORE", "sqlite:///x.db?cache=big")
        with pytest.raises(StoreURLError) as info:
            connect(plugins=plugins)
        assert str(info.value).count("EXPERIMENTS_STORE") == 1
        with pytest.raises(StoreURLError) as given:
            connect("sqlite:///x.db?cache=big", plugins=plugins)
        assert "EXPERIMENTS_STORE" not in str(given.value)

    def test_an_actor_error_is_not_the_environments(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, plugins: Plugins
    ) -> None:
        """A bad actor= is told as the argument's, not as the store URL's from EXPERIMENTS_STORE."""
        monkeypatch.setenv("EXPERIMENTS_STORE", f"sqlite:///{tmp_path}/programme.db")
        with pytest.raises(ValidationError) as info:
            connect(plugins=plugins, actor="a\x00b")
        assert str(info.value).startswith("actor must not contain the NUL character")
        assert "EXPERIMENTS_STORE" not in str(info.value)

    @pytest.mark.parametrize(
        ("factory", "match"),
        [
            (lambda url, **_: (_ for _ in ()).throw(RuntimeError("socket gone")), "socket gone"),
            (lambda url, **_: object(), "gave object, not a Store"),
        ],
        ids=["raises", "wrong-type"],
    )
    def test_a_backend_that_fails_its_own_way_is_a_plugin_error(
        self, factory: Any, match: str, plugins: Plugins
    ) -> None:
        """A factory raising something of its own, or returning no Store: a PluginError."""

        class Broken:
            @experiments.hookimpl
            def register_backends(self, register: Any) -> None:
                register("broken", factory)

        plugins.register(Broken(), name="broken-backend")
        with pytest.raises(PluginError, match=match) as info:
            connect("broken://x", plugins=plugins)
        assert "'broken-backend'" in str(info.value)

    def test_not_a_url(self, plugins: Plugins) -> None:
        """Something that is no URL at all is a clear error."""
        with pytest.raises(StoreError, match="not a store URL"):
            connect("experiments.db", plugins=plugins)

    @pytest.mark.parametrize(
        "url",
        ["files:///tmp/plan#2", "sqlite:///tmp/a#b.db", "postgresql://u:s3#cr3t@host/db"],
    )
    def test_hash_is_refused_and_the_password_stays_hidden(
        self, url: str, plugins: Plugins
    ) -> None:
        """'#' would cut the URL short; the error says to write %23 and shows no password."""
        with pytest.raises(StoreError, match="%23") as info:
            connect(url, plugins=plugins)
        assert "s3" not in str(info.value)
        assert "tmp" not in str(info.value)

    def test_percent_encoded_hash_is_part_of_the_path(
        self, tmp_path: Path, plugins: Plugins
    ) -> None:
        """%23 is how a path holds '#'."""
        with connect(f"sqlite:///{tmp_path}/plan%232.db", plugins=plugins) as store:
            store.save(experiments.Objective(title="Hash"))
        assert (tmp_path / "plan#2.db").exists()

    def test_environment_then_default(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, plugins: Plugins
    ) -> None:
        """Without a URL: EXPERIMENTS_STORE, else experiments.db in the working directory."""
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("EXPERIMENTS_STORE", f"sqlite:///{tmp_path}/from-env.db")
        with connect(plugins=plugins) as store:
            store.save(experiments.Objective(title="Env"))
        assert (tmp_path / "from-env.db").exists()
        monkeypatch.delenv("EXPERIMENTS_STORE")
        with connect(plugins=plugins) as store:
            store.save(experiments.Objective(title="Default"))
        assert (tmp_path / "experiments.db").exists()

    def test_reads_never_create_a_store(self, tmp_path: Path, plugins: Plugins) -> None:
        """Reading a mistyped path fails and leaves no file behind; the first write creates it."""
        path = tmp_path / "typo.db"
        store = connect(f"sqlite:///{path}", plugins=plugins)
        with pytest.raises(StoreError, match=r"no store at .*init"):
            list(store.query(experiments.Experiment))
        with pytest.raises(StoreError, match="no store"):
            store.count()
        assert not path.exists()
        assert not store.exists()
        store.save(experiments.Objective(title="Created by the first write"))
        assert path.exists()
        store.close()
        with pytest.raises(StoreError, match="no store"):
            connect(f"sqlite:///{tmp_path}/other.db", plugins=plugins, create=False)
        with connect(f"sqlite:///{tmp_path}/made.db", plugins=plugins, create=True):
            pass
        assert (tmp_path / "made.db").exists()

    def test_failing_event_hook_is_logged_and_the_write_stands(
        self, plugins: Plugins, caplog: pytest.LogCaptureFixture
    ) -> None:
        """An event hook that raises is a warning naming the plugin and the hook."""

        class Angry:
            @experiments.hookimpl
            def learning_recorded(self, learning: object) -> None:
                raise ValueError("no")

        plugins.register(Angry(), name="angry")
        with connect("memory://", plugins=plugins) as store, caplog.at_level(logging.WARNING):
            learning = store.save(experiments.Learning(experiment="exp_1", observation="Seen"))
            assert store.get(learning.id).revision == 1
        messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any("'angry'" in m and "learning_recorded" in m for m in messages)


class TestPluggyDispatch:
    """Hooks are called through pluggy: wrappers, order and validation work as it documents."""

    def test_a_wrapper_wraps_the_event_hooks(self, plugins: Plugins) -> None:
        """A wrapper=True implementation runs around the others and sees their results."""
        seen: list[str] = []

        class Listener:
            @experiments.hookimpl
            def object_saved(self, record: experiments.Record) -> None:
                seen.append(f"saved {record.kind}")

        class Wrapper:
            @experiments.hookimpl(wrapper=True)
            def object_saved(self, record: experiments.Record) -> object:
                seen.append("before")
                result = yield
                seen.append("after")
                return result

        plugins.register(Listener(), name="listener")
        plugins.register(Wrapper(), name="wrapper")
        with connect("memory://", plugins=plugins) as store:
            store.save(experiments.Objective(title="Welfare"))
        assert seen == ["before", "saved objective", "after"]

    def test_tryfirst_and_trylast_order_the_plugins(self, plugins: Plugins) -> None:
        """pluggy's ordering marks decide who hears an event first."""
        seen: list[str] = []

        def plugin(label: str, **marks: bool) -> object:
            class Plugin:
                @experiments.hookimpl(**marks)
                def object_saved(self) -> None:
                    seen.append(label)

            return Plugin()

        plugins.register(plugin("last", trylast=True), name="last")
        plugins.register(plugin("first", tryfirst=True), name="first")
        plugins.register(plugin("middle"), name="middle")
        with connect("memory://", plugins=plugins) as store:
            store.save(experiments.Objective(title="Welfare"))
        assert seen == ["first", "middle", "last"]

    def test_a_raising_plugin_does_not_silence_the_others(self, plugins: Plugins) -> None:
        """One plugin's failure is logged; the plugins after it still hear the event."""
        seen: list[str] = []

        class Angry:
            @experiments.hookimpl(tryfirst=True)
            def object_saved(self) -> None:
                raise RuntimeError("no")

        class Calm:
            @experiments.hookimpl
            def object_saved(self) -> None:
                seen.append("heard")

        plugins.register(Calm(), name="calm")
        plugins.register(Angry(), name="angry")
        with connect("memory://", plugins=plugins) as store:
            store.save(experiments.Objective(title="Welfare"))
        assert seen == ["heard"]

    def test_on_event_gets_every_event_as_an_object(self, plugins: Plugins) -> None:
        """on_event(event) hears the frozen events, in the order the write made them."""
        from experiments.events import ExperimentStarted, ObjectSaved  # noqa: PLC0415

        heard: list[object] = []

        class Trail:
            @experiments.hookimpl
            def on_event(self, event: object) -> None:
                heard.append(event)

        plugins.register(Trail(), name="trail")
        with connect("memory://", plugins=plugins) as store:
            walks = store.save(experiments.Experiment(title="Walks"))
            store.save(walks.start(at="2026-03-01T09:00:00Z"))
        assert [type(e) for e in heard] == [ObjectSaved, ObjectSaved, ExperimentStarted]
        assert isinstance(heard[1], ObjectSaved)
        assert heard[1].previous_revision == 1
        assert heard[2].arguments()["experiment"].status.value == "running"  # type: ignore[attr-defined]

    def test_a_wrong_signature_is_a_plugin_error_naming_it(self, plugins: Plugins) -> None:
        """An implementation with an argument its hook does not have is refused by name."""

        class Wrong:
            @experiments.hookimpl
            def object_saved(self, record: object, colour: str) -> None:
                pass

        with pytest.raises(
            PluginError, match=r"plugin 'wrong' is not valid: .*object_saved.*colour"
        ):
            plugins.register(Wrong(), name="wrong")
        assert "wrong" not in [p.name for p in plugins.plugins()]
        assert plugins.manager.get_plugin("wrong") is None  # nothing half-registered

    def test_a_misspelt_hook_is_a_plugin_error(self, plugins: Plugins) -> None:
        """A hook implementation whose name no hook has fails loudly when registered."""

        class Misspelt:
            @experiments.hookimpl
            def object_saveed(self, record: object) -> None:
                pass

        with pytest.raises(
            PluginError,
            match=r"plugin 'misspelt' implements a hook that does not exist.*object_saveed",
        ):
            plugins.register(Misspelt(), name="misspelt")
        assert "misspelt" not in [p.name for p in plugins.plugins()]

    def test_no_event_is_made_without_a_listener(self, plugins: Plugins) -> None:
        """With no plugin listening, a write makes no events at all (nothing to pay for)."""
        assert not plugins.listening()
        plugins.register(experiments.Plugins, name="not-a-plugin")  # no hooks at all
        assert not plugins.listening()
