"""quiet.retracing_notices_dropped: drops exactly TensorFlow's frequent-retracing warning, only within the block."""

import logging

from cnnkit import quiet

NOTICE = ("5 out of the last 13 calls to <function TensorFlowTrainer._make_function.<locals>.multi_step_on_iterator "
          "at 0x7f> triggered tf.function retracing. Tracing is expensive ...")


def test_drops_only_the_retracing_notice_and_only_inside(caplog):
    logger = logging.getLogger("tensorflow")
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        with quiet.retracing_notices_dropped():
            logger.warning(NOTICE)
            logger.warning("something else")
        logger.warning(NOTICE)
    messages = [record.getMessage() for record in caplog.records]
    assert messages == ["something else", NOTICE]


def test_filter_is_removed_after_an_error(caplog):
    logger = logging.getLogger("tensorflow")
    try:
        with quiet.retracing_notices_dropped():
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        logger.warning(NOTICE)
    assert [record.getMessage() for record in caplog.records] == [NOTICE]
