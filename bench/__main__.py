"""`make bench`: run every benchmark suite and print its ratios."""
from bench import generator_scale, prep_speed, trigger_detection

for suite in (generator_scale, trigger_detection, prep_speed):
    print("\n".join(suite.run()))
