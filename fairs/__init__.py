"""Virtual job fairs: booths, vacancies, queues and live chat."""
