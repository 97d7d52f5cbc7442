from conveyor import dsl


@dsl.component
def say_hello(name: str) -> str:
    hello_text = f'Hello, {name}!'
    print(hello_text)
    return hello_text


@dsl.pipeline
def hello_pipeline(recipient: str = 'World') -> str:
    hello_task = say_hello(name=recipient)
    return hello_task.output
