
from conveyor import dsl


@dsl.component
def flip_coin(seed: int) -> str:
    import random
    random.seed(seed)
    return 'heads' if random.randint(0, 1) == 0 else 'tails'


@dsl.component
def roll_die(sides: int, seed: int) -> int:
    import random
    random.seed(seed)
    return random.randint(1, sides)


@dsl.component
def print_msg(msg: str):
    print(msg)


@dsl.component
def add_all(numbers: list[int]) -> int:
    return sum(numbers)


@dsl.pipeline(name='coin-flip', description='conditions, loops and fan-in, kfp v2 style')
def coin_flip_pipeline(seed: int = 42, threshold: int = 3):
    flip = flip_coin(seed=seed)
    with dsl.If(flip.output == 'heads'):
        print_msg(msg='You got heads!')
    with dsl.Elif(flip.output == 'tails'):
        print_msg(msg='You got tails!')
    with dsl.Else():
        print_msg(msg='The coin landed on its edge.')

    with dsl.ParallelFor(items=[4, 6, 8], parallelism=2) as sides:
        roll = roll_die(sides=sides, seed=seed)
        with dsl.Condition(roll.output >= threshold):
            print_msg(msg='high roll')
    add_all(numbers=dsl.Collected(roll.output)).set_caching_options(False)
