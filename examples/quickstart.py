"""A benchmark file for the `bayesbench` command: two toy "models" on 500 arithmetic questions.

    bayesbench examples/quickstart.py --confidence 0.99

Replace the two functions with real models (e.g. bayesbench.adapters.openai_compat.openai_model).
"""

import random

from bayesbench import BayesianBenchmark

rng = random.Random(0)
problems = [{"question": f"{a} + {b} = ?", "answer": str(a + b)}
            for a, b in ((rng.randint(0, 99), rng.randint(0, 99)) for _ in range(500))]


def careful_model(problem):
    a, b = (int(x) for x in problem["question"].replace(" = ?", "").split(" + "))
    return str(a + b) if (a * 7 + b) % 10 else str(a + b + 1)  # right 90 % of the time


def sloppy_model(problem):
    a, b = (int(x) for x in problem["question"].replace(" = ?", "").split(" + "))
    return str(a + b) if (a + b) % 4 else str(a - b)  # right about 75 % of the time


bench = BayesianBenchmark(confidence=0.95, seed=0)


@bench.task(dataset=problems, name="addition")
def addition(problem):
    return (float(careful_model(problem) == problem["answer"]),
            float(sloppy_model(problem) == problem["answer"]))
