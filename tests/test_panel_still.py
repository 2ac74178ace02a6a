"""A live panel's still follows its last picture: a notebook that updates a panel in a
later cell stores (and exports) the picture the panel ends with, not the first one."""

from __future__ import annotations

import base64
import hashlib

import IPython
import IPython.display
import nbformat
import pytest
import torch
from tensordict import TensorDict
from torchrl.data import LazyTensorStorage, ReplayBuffer

from rltutor.replay import watch_buffer


class _Events:
    def __init__(self) -> None:
        self.callbacks: list = []

    def register(self, event: str, callback) -> None:
        assert event == "post_run_cell"
        self.callbacks.append(callback)

    def unregister(self, event: str, callback) -> None:
        self.callbacks.remove(callback)

    def end_cell(self) -> None:
        for callback in list(self.callbacks):
            callback(None)


class _Kernel:
    def __init__(self) -> None:
        self.msg_type = "execute_request"  # a cell's code is running

    def get_parent(self) -> dict:
        return {"header": {"msg_type": self.msg_type}}


class _Shell:
    def __init__(self) -> None:
        self.kernel, self.events = _Kernel(), _Events()


@pytest.fixture
def notebook(monkeypatch):
    """A fake kernel shell, and the outputs a notebook would store, by display id.

    Updates replace the data of the output with their display id, as nbclient does with
    ``update_display_data``; every message is kept in ``sent`` too.
    """
    shell, stored, sent = _Shell(), {}, []

    def display(data, *, raw, display_id):
        assert raw
        stored[display_id] = data
        sent.append(("display", display_id))

    def update_display(data, *, raw, display_id):
        assert raw and display_id in stored
        stored[display_id] = data
        sent.append(("update", display_id))

    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    monkeypatch.setattr(IPython.display, "display", display)
    monkeypatch.setattr(IPython.display, "update_display", update_display)
    return shell, stored, sent


def _still(stored: dict) -> bytes:
    (data,) = stored.values()
    return base64.b64decode(data["image/png"])


def _filled_buffer_view():
    buffer = ReplayBuffer(storage=LazyTensorStorage(10), batch_size=2)
    view = watch_buffer(buffer)
    return buffer, view


def test_a_panel_updated_in_a_later_cell_stores_its_new_picture(notebook):
    shell, stored, sent = notebook
    buffer, view = _filled_buffer_view()
    view._ipython_display_()  # cell 1 ends with `view`
    shell.events.end_cell()
    empty = _still(stored)
    assert empty == bytes(view.picture.value)

    buffer.extend(TensorDict(obs=torch.zeros(4, 1), batch_size=[4]))  # cell 2
    view.update()
    view.update()  # two redraws in one cell ...
    assert _still(stored) == empty  # ... nothing sent while the cell runs
    shell.events.end_cell()
    assert sent == [("display", view._display_id), ("update", view._display_id)]  # ... one
    assert _still(stored) == bytes(view.picture.value) != empty
    assert "4 / 10 slots" in next(iter(stored.values()))["text/plain"]

    shell.events.end_cell()  # a cell that changes nothing sends nothing
    assert len(sent) == 2 and shell.events.callbacks == []


def test_a_slider_moved_by_the_learner_sends_no_update(notebook):
    shell, stored, sent = notebook
    buffer, view = _filled_buffer_view()
    view._ipython_display_()
    shell.kernel.msg_type = "comm_msg"  # a widget message, not a cell
    buffer.extend(TensorDict(obs=torch.zeros(4, 1), batch_size=[4]))
    view.update()
    shell.events.end_cell()
    assert sent == [("display", view._display_id)]


def test_a_panel_never_shown_sends_nothing(notebook):
    shell, stored, sent = notebook
    buffer, view = _filled_buffer_view()
    view.update()
    assert shell.events.callbacks == [] and sent == []


def test_nbclient_stores_the_last_picture_in_the_cell_that_showed_the_panel():
    """End to end, in a real kernel: nbclient writes the update into cell 1's output."""
    from nbclient import NotebookClient

    cells = [
        "import torch, rltutor\n"
        "from tensordict import TensorDict\n"
        "from torchrl.data import LazyTensorStorage, ReplayBuffer\n"
        "rb = ReplayBuffer(storage=LazyTensorStorage(10), batch_size=2)\n"
        "view = rltutor.watch_buffer(rb)\n"
        "first = bytes(view.picture.value)\n"
        "view",
        "_ = rb.extend(TensorDict(obs=torch.zeros(4, 1), batch_size=[4]))\n"
        "_ = view.update()",
        "import hashlib\n"
        "last = bytes(view.picture.value)\n"
        "print(last != first, hashlib.sha256(last).hexdigest())",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   extra_arguments=["--IPKernelApp.log_level=ERROR"]).execute()
    (shown,) = nb.cells[0].outputs
    assert shown.output_type == "display_data"
    assert "application/vnd.jupyter.widget-view+json" in shown.data
    # the update went into cell 1's output, not into a new one (stdout: torchrl's log)
    assert [o.output_type for o in nb.cells[1].outputs if o.output_type != "stream"] == []
    changed, digest = nb.cells[2].outputs[-1]["text"].split()
    assert changed == "True"
    assert hashlib.sha256(base64.b64decode(shown.data["image/png"])).hexdigest() == digest
