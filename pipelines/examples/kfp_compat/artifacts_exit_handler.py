from typing import NamedTuple

from conveyor import dsl
from conveyor.dsl import (
    Dataset,
    Input,
    InputPath,
    Metrics,
    Model,
    Output,
    OutputPath,
    PipelineTaskFinalStatus,
)


@dsl.component(base_image='python:3.11',
               packages_to_install=['pandas'])
def create_dataset(num_rows: int, dataset: Output[Dataset]):
    with open(dataset.path, 'w') as f:
        f.write('x,y\n')
        for i in range(num_rows):
            f.write(f'{i},{2 * i}\n')
    dataset.metadata['rows'] = num_rows


@dsl.component
def count_rows(dataset_path: InputPath('Dataset'), count_path: OutputPath(int)):
    with open(dataset_path) as f:
        rows = sum(1 for _ in f) - 1
    with open(count_path, 'w') as f:
        f.write(str(rows))


@dsl.component
def fit(dataset: Input[Dataset], learning_rate: float, model: Output[Model],
        metrics: Output[Metrics]) -> NamedTuple('FitOutputs', [('loss', float), ('epochs', int)]):
    from collections import namedtuple
    with open(model.path, 'w') as f:
        f.write(f'slope=2 lr={learning_rate}')
    metrics.log_metric('loss', 0.01)
    outputs = namedtuple('FitOutputs', ['loss', 'epochs'])
    return outputs(0.01, 3)


@dsl.component
def exit_op(status: PipelineTaskFinalStatus, user_input: str):
    print('Pipeline status:', status.state)
    print('Job resource name:', status.pipeline_job_resource_name)
    print('Pipeline task name:', status.pipeline_task_name)
    print('Error code:', status.error_code)
    print('Error message:', status.error_message)
    print(user_input)


@dsl.pipeline(name='artifacts-exit-handler')
def artifacts_pipeline(num_rows: int = 10, learning_rate: float = 0.1):
    exit_task = exit_op(user_input='done')
    with dsl.ExitHandler(exit_task, name='train-with-cleanup'):
        data = create_dataset(num_rows=num_rows)
        counted = count_rows(dataset_path=data.outputs['dataset'])
        trained = fit(dataset=data.outputs['dataset'], learning_rate=learning_rate)
        trained.after(counted)
        trained.set_cpu_limit('2').set_memory_limit('4G').set_retry(num_retries=2)
        trained.set_env_variable(name='MODE', value='fast')
        trained.set_display_name('Fit the model')
