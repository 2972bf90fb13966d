"""`make bench`: run every benchmark suite and print its ratios."""
from bench import generator_scale

for suite in (generator_scale,):
    print("\n".join(suite.run()))
