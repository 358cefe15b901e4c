from tests.testapp.reflexes.counter import BaseCounterReflex


class DeepReflex(BaseCounterReflex):
    def hello(self):
        self.note = "deep"
