"""An offline task for `bayesbench monitor`: 200 arithmetic questions and a local function model.

QA_BROKEN=1 in the environment makes the model answer half of the questions wrong (a regression to catch).
"""

import os

PROBLEMS = [{"id": f"q{i}", "prompt": f"{i} + {i} = ?", "answer": str(2 * i)} for i in range(200)]


def problems():
    return PROBLEMS


def model(prompt):
    i = int(prompt.split()[0])
    return str(2 * i + (1 if os.environ.get("QA_BROKEN") and i % 2 == 0 else 0))


def exact(problem, response):
    return float(response.strip() == problem["answer"])
