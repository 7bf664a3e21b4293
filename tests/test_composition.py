"""The composition root names all the wiring: every event with its handlers, every task
module, every periodic job, and nothing is wired anywhere else."""
from __future__ import annotations

import ast
import inspect
from dataclasses import fields

from console import composition
from foundation import events, jobs
from tests.code_shape import LAYERS, application_modules

CATALOGUE = set(events.catalogue())


def _calls(name: str) -> list[tuple[str, ast.Call]]:
    """Every call of `something.name(...)` or `name(...)` in the application packages."""
    found = []
    for module, path in application_modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if called == name:
                    found.append((module, node))
    return found


def emitted_events() -> dict[str, set[str]]:
    """Event class name -> the modules that emit it."""
    emitters: dict[str, set[str]] = {}
    for module, call in _calls("emit"):
        if module == "foundation.events" or len(call.args) != 2:
            continue
        payload = call.args[1]
        assert isinstance(payload, ast.Call), f"{module} emits something other than a payload"
        name = ast.unparse(payload.func).rpartition(".")[2]
        emitters.setdefault(name, set()).add(module)
    return emitters


def modules_declaring_jobs() -> set[str]:
    declaring = set()
    for module, path in application_modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                    ast.unparse(d.func if isinstance(d, ast.Call) else d) in ("job", "jobs.job")
                    for d in node.decorator_list):
                declaring.add(module)
    return declaring


def test_the_root_lists_every_event_of_the_catalogue_and_nothing_else():
    assert set(composition.SUBSCRIPTIONS) == CATALOGUE


def test_every_event_is_emitted_somewhere_and_only_catalogue_events_are():
    emitters = emitted_events()
    assert set(emitters) == {event.__name__ for event in CATALOGUE}


def test_every_event_is_documented():
    assert [e.__name__ for e in CATALOGUE if not (e.__doc__ or "").strip()] == []


def test_every_handler_accepts_its_events_fields():
    for event, handlers in composition.SUBSCRIPTIONS.items():
        payload = {f.name: None for f in fields(event)}
        for handler in handlers:
            inspect.signature(handler).bind(None, **payload)  # TypeError if it cannot


def test_wiring_subscribes_exactly_the_tables_handlers_in_order_however_often_it_runs():
    composition.wire()
    composition.wire()
    assert {event: events.subscribers(event) for event in CATALOGUE} == \
        composition.SUBSCRIPTIONS


WIRING_CALLS = {"events.subscribe", "jobs.schedule", "listing_signals.provide",
                "case_signals.provide", "signals.provide", "register_kind",
                "kinds.register_kind"}


def test_nothing_subscribes_or_schedules_outside_the_root():
    wiring = {module for name in ("subscribe", "schedule", "provide", "register_kind")
              for module, call in _calls(name) if ast.unparse(call.func) in WIRING_CALLS}
    assert wiring == {"console.composition"}


def test_the_root_lists_every_module_that_declares_jobs():
    listed = {module.__name__ for module in composition.TASK_MODULES}
    assert listed == modules_declaring_jobs()


def test_every_task_named_in_the_code_is_registered_by_a_listed_module():
    listed = {module.__name__ for module in composition.TASK_MODULES}
    named = [call.args[0].value for _, call in _calls("named")
             if call.args and isinstance(call.args[0], ast.Constant)]
    assert named  # the services that arm timers name their tasks
    registered = jobs.registered_tasks()
    for name in named:
        assert name in registered, name
        assert name.rpartition(".")[0] in listed, name


def test_the_schedule_is_every_periodic_job_of_the_application():
    composition.wire()
    ours = {name: spec.every for name, spec in jobs.periodic_tasks().items()
            if name.split(".")[0] in LAYERS}
    assert ours == {p.task.spec.name: p.every for p in composition.SCHEDULE}
    listed = {module.__name__ for module in composition.TASK_MODULES}
    for periodic in composition.SCHEDULE:
        assert periodic.task.spec.name.rpartition(".")[0] in listed
        assert not inspect.signature(periodic.task.spec.fn).parameters  # the beat passes none
